/**
 * A bounded run of a pipeline that publishes its results (`.sink({ toStream })`) where a result row is over the
 * Kinesis record limit: its dead letter is a result's, not a rejected input record. The run reports it apart
 * (`resultsDeadLettered`), and `rejected` holds the input records that were rejected, and only them.
 */
import { runBounded } from '../../../../functions/core/runner/boundedRunner';
import type { RawRecord } from '../../../../functions/core/types';
import minutes, { oversizeClicks } from '../../../helpers/fixtures/oversizeMinutes';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1, 12);
const SHARD = 'shardId-000000000000';

/** The clicks of `oversizeClicks` (the /big row is about 1.2 MB), then `malformed` records that are not JSON. */
function input(malformed: number): RawRecord[] {
  const clicks = oversizeClicks(T0).map((click, n) =>
    rawRecord(click, { shardId: SHARD, sequenceNumber: n + 1, approximateArrivalTimestamp: T0 }),
  );
  const bad = Array.from({ length: malformed }, (_, n) => ({
    shardId: SHARD,
    sequenceNumber: String(clicks.length + n + 1),
    partitionKey: 'p',
    data: Buffer.from('{not json', 'utf8').toString('base64'),
    approximateArrivalTimestamp: T0,
  }));
  return [...clicks, ...bad];
}

describe('runBounded of a pipeline whose result row is too big for its stream', () => {
  it.each([0, 1, 2])(
    'with %i malformed records, rejected holds them alone and the oversize row is reported as a result dead letter',
    async (malformed) => {
      const run = await runBounded(minutes, input(malformed));
      expect(run.rejected.map((r) => [r.sequenceNumber, r.reason])).toEqual(
        Array.from({ length: malformed }, (_, n) => [String(1007 + n), 'INVALID_JSON']),
      );
      expect(run.resultsDeadLettered).toEqual([
        expect.objectContaining({
          reason: 'OVERSIZE_RECORD',
          table: 'tag_minutes',
          key: '/big',
          id: `tag_minutes/${T0}//big`,
          windowStart: T0,
          windowEnd: T0 + 60_000,
        }),
      ]);
      // Its row is in the table; only the small one was published.
      expect(run.rows.map((r) => [r['page'], r['clicks']])).toEqual([
        ['/big', 1000],
        ['/small', 6],
      ]);
      expect(run.published.map((e) => e.partitionKey)).toEqual(['/small']);
    },
  );
});
