/**
 * Hostile producers against the state layer on DynamoDB Local (issue 12): nothing a producer can put in a
 * valid record stops a pipeline, and every record is accounted for (results + rejected + late = input).
 * The real `BatchProcessor` over the DynamoDB state store and s3rver, as the operator handler runs it.
 */
import type { RawRecord } from '../../functions/core/types';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { randomBytes } from 'node:crypto';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { COLLIDING_KEYS, hostileProducers, hostileState } from '../helpers/hostileProducers';
import { useLocalCloud } from '../helpers/localCloud';
import { clickEvent, encodeJson, kinesisSequence } from '../helpers/records';
import { statefulCloudRun, type StatefulCloudRun } from '../helpers/statefulCloud';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

useLocalCloud();

jest.setTimeout(120_000);

const PIPELINE = hostileProducers as unknown as StatefulPipeline;
const SHARDS = ['shardId-000000000000', 'shardId-000000000001'] as const;
/** A minute boundary: the corpus window is [T0, T0 + 1 min). */
const T0 = Date.UTC(2026, 11, 4, 9, 0, 0);

class Shard {
  #next = 0;
  public constructor(public readonly id: string) {}
  /** A record with `value` as payload, arriving at `arrival` (default: its event time). */
  public record<T extends { ts: string }>(value: T, arrival = Date.parse(value.ts)): RawRecord {
    this.#next += 1;
    return {
      shardId: this.id,
      sequenceNumber: kinesisSequence(this.#next + (this.id === SHARDS[0] ? 0 : 5000)),
      partitionKey: 'pk',
      data: encodeJson(value),
      approximateArrivalTimestamp: arrival,
    };
  }
}

let events = 0;
const event = (time: number, overrides: Parameters<typeof clickEvent>[2] = {}) =>
  clickEvent((events += 1), time, { revenue: 1, ...overrides });

describe('hostile producers on DynamoDB Local', () => {
  let run: StatefulCloudRun;

  afterEach(async () => run?.dispose());

  it('when record keys spell internal item names, separators or maximal UTF-8, every batch of every shard applies and each key counts once', async () => {
    run = await statefulCloudRun(PIPELINE, T0 + 90_000);
    const [a, b] = [new Shard(SHARDS[0]), new Shard(SHARDS[1])];
    const processor = run.instance();
    const hostile = COLLIDING_KEYS.map((page, i) => a.record(event(T0 + 1_000 + i, { page })));
    await expect(processor.apply(hostile)).resolves.toMatchObject({ rejected: 0, late: 0 });
    // Every shard, every later batch, and the tick still work with those keys stored.
    await processor.apply([
      b.record(event(T0 + 2_000, { page: 'shards' })),
      b.record(event(T0 + 3_000, { page: '/home' })),
    ]);
    await run.instance().apply([a.record(event(T0 + 4_000, { page: '#pipeline' }))]);
    await run.instance().tick();
    await run.instance().apply([a.record(event(T0 + 125_000)), b.record(event(T0 + 125_000))]);
    await run.instance().tick(Number.POSITIVE_INFINITY);

    const rows = await run.rows('page, window_start, events');
    const counts = new Map(
      rows.filter((r) => r.window_start === T0).map((r) => [r.page as string, Number(r.events)]),
    );
    const expected = new Map(COLLIDING_KEYS.map((key) => [key, 1]));
    expected.set('shards', 2);
    expected.set('#pipeline', 2);
    expected.set('/home', 1);
    expect(counts).toEqual(expected);
    expect(await run.rejected()).toEqual([]);
  });

  it('when a key is over the byte limit though short in characters, only that record is rejected (INVALID_KEY) and the batch applies', async () => {
    run = await statefulCloudRun(PIPELINE, T0 + 90_000);
    const a = new Shard(SHARDS[0]);
    const wide = '中'.repeat(1000);
    const result = await run
      .instance()
      .apply([
        a.record(event(T0 + 1_000)),
        a.record(event(T0 + 2_000, { page: wide })),
        a.record(event(T0 + 3_000)),
      ]);
    expect(result).toMatchObject({ rejected: 1, late: 0 });
    await run.instance().tick(Number.POSITIVE_INFINITY);
    expect((await run.rejected()).map((r) => [r.reason, r.detail.includes('3000 UTF-8 bytes')])).toEqual([
      ['INVALID_KEY', true],
    ]);
    expect((await run.rows('events')).reduce((n, r) => n + Number(r.events), 0)).toBe(2);
  });

  it('when valid values overflow a sum, the window is emitted with Infinity (as SQL SUM over DOUBLE gives) and later batches still apply', async () => {
    run = await statefulCloudRun(PIPELINE, T0 + 90_000);
    const a = new Shard(SHARDS[0]);
    await run
      .instance()
      .apply([
        a.record(event(T0 + 1_000, { page: '/big', revenue: 1e308 })),
        a.record(event(T0 + 2_000, { page: '/big', revenue: 1e308 })),
      ]);
    // A second instance reads the overflowed state back and adds to it.
    await run.instance().apply([a.record(event(T0 + 3_000, { page: '/big', revenue: 1 }))]);
    await run.instance().tick(Number.POSITIVE_INFINITY);
    const rows = await run.rows('page, events, revenue, avg_revenue');
    expect(rows).toEqual([{ page: '/big', events: 3n, revenue: Infinity, avg_revenue: Infinity }]);
  });

  it('when a producer clock runs a day ahead, its record is rejected (EVENT_TIME_AHEAD) and closes no window: on-time records of every shard stay on time', async () => {
    run = await statefulCloudRun(PIPELINE, T0 + 20_000);
    const [a, b] = [new Shard(SHARDS[0]), new Shard(SHARDS[1])];
    const processor = run.instance();
    const ahead = await processor.apply([a.record(event(T0 + 86_400_000), T0 + 10_000)]);
    expect(ahead).toMatchObject({ rejected: 1, late: 0 });
    run.clock.now = T0 + 200_000; // both shards idle: the tick would take the highest shard watermark
    await run.instance().tick();
    const onTime = await processor.apply([
      a.record(event(T0 + 15_000), T0 + 200_000),
      b.record(event(T0 + 16_000), T0 + 200_000),
    ]);
    expect(onTime).toMatchObject({ rejected: 0, late: 0 });
    await run.instance().tick(Number.POSITIVE_INFINITY);
    expect((await run.rejected()).map((r) => r.reason)).toEqual(['EVENT_TIME_AHEAD']);
    expect(await run.late()).toEqual([]);
    expect((await run.rows('events')).reduce((n, r) => n + Number(r.events), 0)).toBe(2);
  });

  it('when one shard receives an event minutes ahead (within maxEventTimeAhead) and then the stream goes quiet, the idle rule does not close the windows records arriving later belong to', async () => {
    run = await statefulCloudRun(PIPELINE, T0 + 10_000);
    const [a, b] = [new Shard(SHARDS[0]), new Shard(SHARDS[1])];
    // Arrives at T0 + 10 s claiming T0 + 4 min; the other shard is at T0 + 10 s.
    await run.instance().apply([a.record(event(T0 + 240_000), T0 + 10_000), b.record(event(T0 + 10_000))]);
    run.clock.now = T0 + 60_000; // every shard idle for 50 s (idleTimeout 30 s)
    await run.instance().tick();
    // Real time T0 + 60 s: records of the minute [T0 + 1 min, T0 + 2 min) arrive on time.
    const later = await run
      .instance()
      .apply([b.record(event(T0 + 61_000), T0 + 61_000), a.record(event(T0 + 62_000), T0 + 62_000)]);
    expect(later).toMatchObject({ rejected: 0, late: 0 });
    await run.instance().tick(Number.POSITIVE_INFINITY);
    expect(await run.late()).toEqual([]);
    expect((await run.rows('events')).reduce((n, r) => n + Number(r.events), 0)).toBe(4);
  });

  it("when a batch's state is larger than one DynamoDB transaction holds, it commits in parts of chunked segments and every record counts", async () => {
    const state = hostileState as unknown as StatefulPipeline;
    run = await statefulCloudRun(state, T0 + 10_000);
    const a = new Shard(SHARDS[0]);
    // 240 records with 2 KB of incompressible text each, in 60 windows each: ~29 MB of raw state, ~21 MB
    // compressed, against 4 MB per transaction.
    const batch = Array.from({ length: 240 }, (_, i) =>
      a.record({
        ...event(T0 + i * 10, { page: `/p/${i % 8}` }),
        note: randomBytes(1_536).toString('base64'),
      }),
    );
    const result = await run.instance().apply(batch);
    expect(result).toMatchObject({ rejected: 0, late: 0 });
    // At most ~3.7 MB per commit: the batch was committed in at least 6 parts (of several 350 KB chunks each).
    const progress = await new DynamoDBStateStore({ tableName: run.table }).readProgress(state.spec.name);
    expect(progress.shards[0]?.commits).toBeGreaterThanOrEqual(6);
    await run.instance().tick(Number.POSITIVE_INFINITY);
    const rows = await run.rows('page, window_start, events');
    // Each record is in the 60 windows of one hour that contain its time.
    expect(rows.reduce((n, r) => n + Number(r.events), 0)).toBe(240 * 60);
    expect(await run.rejected()).toEqual([]);
  });

  it("when one record's state alone cannot fit a transaction, only it is rejected (STATE_LIMIT) and the rest of its batch applies", async () => {
    const state = hostileState as unknown as StatefulPipeline;
    run = await statefulCloudRun(state, T0 + 10_000);
    const a = new Shard(SHARDS[0]);
    // 300 KB of incompressible text in 60 windows: ~13 MB compressed, more than any transaction holds.
    const huge = a.record({
      ...event(T0 + 2_000, { page: '/huge' }),
      note: randomBytes(225_000).toString('base64'),
    });
    const result = await run
      .instance()
      .apply([
        a.record({ ...event(T0 + 1_000), note: 'a' }),
        huge,
        a.record({ ...event(T0 + 3_000), note: 'b' }),
      ]);
    expect(result).toMatchObject({ rejected: 1, late: 0 });
    await run.instance().tick(Number.POSITIVE_INFINITY);
    const rejected = await run.rejected();
    expect(rejected.map((r) => [r.reason, r.sequenceNumber])).toEqual([['STATE_LIMIT', huge.sequenceNumber]]);
    expect(rejected[0]?.detail).toMatch(/one commit holds at most \d+/);
    // input = results + rejected: the two small records are in all 60 windows each.
    expect((await run.rows('events')).reduce((n, r) => n + Number(r.events), 0)).toBe(2 * 60);
  });
});
