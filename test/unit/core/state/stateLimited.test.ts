/**
 * The shard's list of records dead-lettered `STATE_LIMIT` (`ShardProgress.stateLimited`): how a commit extends
 * and prunes it, how the progress item stores it. What it is for (publishing derived again leaves them out)
 * is tested in `publishAfterCommit.test.ts`.
 */
import { MAX_STATE_LIMITED, stateLimitedAfter } from '../../../../functions/core/state/commitBuilder';
import { StateItemInvalidError } from '../../../../functions/core/state/errors';
import { segmentTtl } from '../../../../functions/core/state/keys';
import { progressFromItem, progressToItem } from '../../../../functions/core/state/stateItems';
import { padSequence } from '../../../../functions/core/sequence';
import type { Rejection } from '../../../../functions/core/types';
import { progress } from '../../../helpers/stateStoreContract';

const NOW = Date.UTC(2030, 0, 1);
const DAY = 86_400_000;
const RETENTION = 7 * DAY;
const UNTIL = segmentTtl(NOW, RETENTION);

const rejection = (sequenceNumber: string, reason: Rejection['reason']): Rejection => ({
  reason,
  detail: 'd',
  shardId: 's',
  sequenceNumber,
  partitionKey: 'k',
  data: '',
});

describe('stateLimited', () => {
  test('when a commit dead-letters a record STATE_LIMIT, it is added expiring with the commit segment; other rejections are not', () => {
    expect(stateLimitedAfter(undefined, [rejection('7', 'SCHEMA_VIOLATION')], NOW, RETENTION)).toEqual({});
    const after = stateLimitedAfter(
      progress('p', { stateLimited: [[padSequence('3'), UNTIL]] }),
      [rejection('7', 'SCHEMA_VIOLATION'), rejection('9', 'STATE_LIMIT')],
      NOW,
      RETENTION,
    );
    expect(after).toEqual({
      stateLimited: [
        [padSequence('3'), UNTIL],
        [padSequence('9'), UNTIL],
      ],
    });
  });

  test('when an entry has expired (with its commit segment), the next commit drops it', () => {
    const later = NOW + RETENTION + DAY;
    const shard = progress('p', { stateLimited: [[padSequence('3'), UNTIL]] });
    // Still kept by a commit before it expires ...
    expect(stateLimitedAfter(shard, [], NOW + DAY, RETENTION)).toEqual({ stateLimited: shard.stateLimited });
    // ... dropped by one after it.
    expect(stateLimitedAfter(shard, [], later, RETENTION)).toEqual({});
  });

  test('when the list is full, the oldest entries make room: the latest MAX_STATE_LIMITED are kept', () => {
    const full = Array.from(
      { length: MAX_STATE_LIMITED },
      (_, i) => [padSequence(String(i + 1)), UNTIL] as const,
    );
    const after = stateLimitedAfter(
      progress('p', { stateLimited: full }),
      [rejection(String(MAX_STATE_LIMITED + 1), 'STATE_LIMIT')],
      NOW,
      RETENTION,
    );
    expect(after.stateLimited).toHaveLength(MAX_STATE_LIMITED);
    expect(after.stateLimited![0]![0]).toBe(padSequence('2'));
    expect(after.stateLimited!.at(-1)![0]).toBe(padSequence(String(MAX_STATE_LIMITED + 1)));
  });

  test('when a progress item names STATE_LIMIT records, it reads back the same; a malformed list is refused', () => {
    const shard = progress('p', { stateLimited: [[padSequence('3'), UNTIL]] });
    expect(progressFromItem(progressToItem(shard))).toEqual(shard);
    expect(progressToItem(progress('p'))).not.toHaveProperty('stateLimited');
    const item = progressToItem(shard);
    for (const bad of ['not json', '{"a":1}', '["3"]', '[["3x", 1]]', '[["3", -1]]', '[["3", 1.5]]'])
      expect(() => progressFromItem({ ...item, stateLimited: { S: bad } })).toThrow(StateItemInvalidError);
  });
});
