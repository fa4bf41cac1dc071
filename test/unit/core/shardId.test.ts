import {
  assertShardId,
  InvalidShardIdError,
  replayOrigin,
  replayShardId,
  shardIdProblem,
} from '../../../functions/core/shardId';
import { batchObjectKey } from '../../../functions/core/state/paths';

/** Shard ids the services and emulators give, and the replay shards of them. */
const GENUINE = [
  'shardId-000000000000', // Kinesis (and kinesis-mock, kinesalite)
  'shardId-00000001414562045508-2bac9cd2', // DynamoDB Streams (and DynamoDB Local)
  's'.repeat(128), // Kinesis' longest
  'shard_1.a-b',
];

/** Ids that must never name a shard: path tricks, option-like, empty, overlong, control and other characters. */
const HOSTILE: readonly (readonly [unknown, string])[] = [
  ['.', 'does not start with a letter or digit'],
  ['..', 'does not start with a letter or digit'],
  ['-x', 'does not start with a letter or digit'],
  ['_x', 'does not start with a letter or digit'],
  ['.replay-0123456789ab', 'does not start with a letter or digit'],
  ['', 'is empty'],
  ['s'.repeat(129), 'is 129 characters long'],
  ['../state', 'does not start with a letter or digit'],
  ['shard/../state', 'holds characters other than'],
  ['shard id', 'holds characters other than'],
  ['shard\u0000', 'holds characters other than'],
  ['shard\n1', 'holds characters other than'],
  ['shard\u001b[31m', 'holds characters other than'],
  ['shärd', 'holds characters other than'],
  [42, 'is a number, not a string'],
  [null, 'is a null, not a string'],
];

describe('shard ids (one rule: the codecs and paths.ts)', () => {
  it('when the id is one a service, an emulator or a replay gives, it is a shard id', () => {
    for (const id of GENUINE) {
      expect([id, shardIdProblem(id)]).toEqual([id, undefined]);
      const replay = replayShardId(id, '49590338271490256608559692538361571095921575989136588898');
      expect([replay, shardIdProblem(replay)]).toEqual([replay, undefined]);
      expect(replayOrigin(replay)).toBe(id);
      expect(batchObjectKey('rejected', 'orders', 0, replay, '1', '2')).toContain(`/${replay}-1-2.jsonl`);
    }
  });

  it('when the id is hostile, it is refused with its reason, and paths.ts refuses it in one line', () => {
    for (const [id, reason] of HOSTILE) {
      expect([id, shardIdProblem(id)]).toEqual([id, expect.stringContaining(reason)]);
      expect(() => assertShardId('Shard', id as string)).toThrow(InvalidShardIdError);
      if (typeof id === 'string') {
        expect(() => batchObjectKey('rejected', 'orders', 0, id, '1', '2')).toThrow(
          /^Shard ".*" .*: a shard id is 1–128 letters, digits, '_', '.', '-', the first a letter or digit$/,
        );
      }
    }
  });
});
