/**
 * The shard's list of records dead-lettered `STATE_LIMIT` (`ShardProgress.stateLimited`): how a commit extends
 * it, how the progress item stores it. What it is for (publishing derived again leaves them out) is tested in
 * `publishAfterCommit.test.ts`.
 */
import { MAX_STATE_LIMITED, stateLimitedAfter } from '../../../../functions/core/state/commitBuilder';
import { StateItemInvalidError } from '../../../../functions/core/state/errors';
import { progressFromItem, progressToItem } from '../../../../functions/core/state/stateItems';
import { padSequence } from '../../../../functions/core/sequence';
import type { Rejection } from '../../../../functions/core/types';
import { progress } from '../../../helpers/stateStoreContract';

const rejection = (sequenceNumber: string, reason: Rejection['reason']): Rejection => ({
  reason,
  detail: 'd',
  shardId: 's',
  sequenceNumber,
  partitionKey: 'k',
  data: '',
});

describe('stateLimited', () => {
  test('when a commit dead-letters a record STATE_LIMIT, its padded sequence number is added; other rejections are not', () => {
    expect(stateLimitedAfter(undefined, [rejection('7', 'SCHEMA_VIOLATION')])).toEqual({});
    const after = stateLimitedAfter(progress('p', { stateLimited: [padSequence('3')] }), [
      rejection('7', 'SCHEMA_VIOLATION'),
      rejection('9', 'STATE_LIMIT'),
    ]);
    expect(after).toEqual({ stateLimited: [padSequence('3'), padSequence('9')] });
  });

  test('when the list is full, the oldest entries make room: the latest MAX_STATE_LIMITED are kept', () => {
    const full = Array.from({ length: MAX_STATE_LIMITED }, (_, i) => padSequence(String(i + 1)));
    const after = stateLimitedAfter(progress('p', { stateLimited: full }), [
      rejection(String(MAX_STATE_LIMITED + 1), 'STATE_LIMIT'),
    ]);
    expect(after.stateLimited).toHaveLength(MAX_STATE_LIMITED);
    expect(after.stateLimited![0]).toBe(padSequence('2'));
    expect(after.stateLimited!.at(-1)).toBe(padSequence(String(MAX_STATE_LIMITED + 1)));
    // A commit without one keeps the list as it is.
    expect(stateLimitedAfter(progress('p', { stateLimited: full }), [])).toEqual({ stateLimited: full });
  });

  test('when a progress item names STATE_LIMIT records, it reads back the same; a malformed list is refused', () => {
    const shard = progress('p', { stateLimited: [padSequence('3'), padSequence('9')] });
    expect(progressFromItem(progressToItem(shard))).toEqual(shard);
    expect(progressToItem(progress('p')).stateLimited).toBeUndefined();
    const item = progressToItem(shard);
    for (const bad of ['not json', '{"a":1}', '[3]', '["3x"]'])
      expect(() => progressFromItem({ ...item, stateLimited: { S: bad } })).toThrow(StateItemInvalidError);
  });
});
