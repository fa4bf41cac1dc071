/**
 * Session windows on DynamoDB Local and s3rver: fragments committed by two shards' batches merge into the
 * sessions the bounded runner computes, emitted as Parquet (one object per close pass and hour partition).
 */
import { z } from 'zod';
import { count, pipeline, session, sum } from '../../functions/core/dsl';
import { runBounded } from '../../functions/core/runner/boundedRunner';
import type { StatefulPipeline } from '../../functions/core/state/types';
import type { RawRecord } from '../../functions/core/types';
import { useLocalCloud } from '../helpers/localCloud';
import { kinesisSequence } from '../helpers/records';
import { statefulCloudRun } from '../helpers/statefulCloud';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

useLocalCloud();

const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
const Click = z.object({ user: z.string(), n: z.number(), t: z.number() });
const visits = pipeline('visits')
  .source({ stream: 'visits', shards: 2 })
  .clean({ schema: Click, eventTime: (c) => c.t })
  .keyBy((c) => c.user, 'user')
  .window(session('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1h' })
  .aggregate({ clicks: count(), total: sum((c) => c.n) })
  .sink({ table: 'visits' });

const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];
const record = (shard: number, seq: number, user: string, t: number): RawRecord => ({
  shardId: SHARDS[shard]!,
  sequenceNumber: kinesisSequence(seq),
  partitionKey: user,
  data: Buffer.from(JSON.stringify({ user, n: seq, t })).toString('base64'),
  approximateArrivalTimestamp: t,
});

it('when two shards commit fragments of the same users sessions, the emitted rows are the reference sessions', async () => {
  const run = await statefulCloudRun(visits as unknown as StatefulPipeline, T0);
  try {
    const input: RawRecord[] = [];
    for (let i = 0; i < 60; i++)
      input.push(record(i % 2, i + 1, `u${i % 3}`, T0 + i * 25_000 + (i % 7) * 9_000));
    const byShard = [
      input.filter((r) => r.shardId === SHARDS[0]),
      input.filter((r) => r.shardId === SHARDS[1]),
    ];
    for (let b = 0; b < 6; b++) {
      for (const records of byShard) await run.instance().apply(records.slice(b * 5, b * 5 + 5));
    }
    await run.instance().tick(Number.POSITIVE_INFINITY);
    const got = (await run.rows('user, window_start, window_end, clicks, total')).map((r) => [
      r.user,
      r.window_start,
      r.window_end,
      Number(r.clicks),
      r.total,
    ]);
    const expected = (await runBounded(visits, input, { batchSize: 1_000, shards: SHARDS })).rows.map((r) => [
      r.user,
      r.window_start,
      r.window_end,
      Number(r.clicks),
      r.total,
    ]);
    const order = (a: unknown[], b: unknown[]) =>
      String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : Number(a[1]) - Number(b[1]);
    expect(got.sort(order)).toEqual(expected.sort(order));
    expect(got.length).toBeGreaterThan(3);
    expect(await run.late()).toEqual([]);
  } finally {
    await run.dispose();
  }
}, 120_000);
