import { randomUUID } from 'node:crypto';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import type { RawRecord } from '../../../../functions/core/types';
import { pageActivity } from '../../../../functions/pipelines';
import { storeCrashingBeforeCommit } from '../../../helpers/crashingStore';
import { jsonEncoder } from '../../../helpers/jsonEncoder';

const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);

function event(
  seq: number,
  eventId: string,
  page: string,
  ts: number,
  revenue = 1,
  shardId = SHARD,
): RawRecord {
  const value = {
    eventId,
    userId: `u${seq % 7}`,
    sessionId: 's',
    page,
    action: 'purchase',
    country: 'DE',
    device: 'mobile',
    durationMs: seq,
    revenue,
    ts: new Date(ts).toISOString(),
  };
  return {
    shardId,
    sequenceNumber: String(seq),
    partitionKey: page,
    data: Buffer.from(JSON.stringify(value)).toString('base64'),
    approximateArrivalTimestamp: ts,
  };
}

function rows(objects: InMemoryObjectStore): Record<string, unknown>[] {
  return [...objects.objects.keys()]
    .filter((k) => k.startsWith('results/'))
    .flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[]);
}

describe('BatchProcessor with the shipped page-activity pipeline', () => {
  test('when a producer sends an event again in the same and in a later batch, the window counts it once, reports each duplicate, and emits the engine row', async () => {
    const pipeline: StatefulPipeline = pageActivity;
    const objects = new InMemoryObjectStore();
    const store = new InMemoryStateStore();
    const processor = new BatchProcessor({
      pipeline,
      store,
      objects,
      encoder: jsonEncoder,
      clock: { now: () => T0 },
    });
    const id = randomUUID();
    const first = await processor.apply([
      event(1, id, '/home', T0 + 1_000, 5),
      event(2, randomUUID(), '/home', T0 + 2_000, 7),
      event(3, id, '/home', T0 + 1_000, 5),
    ]);
    const second = await processor.apply([event(4, id, '/home', T0 + 1_000, 5)]);
    expect([first.duplicateEvents, second.duplicateEvents]).toEqual([1, 1]);
    // A redelivery is skipped by the shard's commit point before any dedupe: not a producer duplicate.
    expect(await processor.apply([event(4, id, '/home', T0 + 1_000, 5)])).toMatchObject({
      duplicates: 1,
      duplicateEvents: 0,
    });
    // The shard's progress counts what its commits took in: the redelivered copy is not counted again.
    const [shard] = (await store.readProgress(pipeline.spec.name)).shards;
    expect(shard?.counts).toEqual({ records: 4, rejected: 0, late: 0, duplicates: 2 });
    // Watermark = max event time − 10 s out-of-orderness must pass end + 30 s lateness, on both shards.
    await processor.apply([event(5, randomUUID(), '/other', T0 + 60_000 + 30_000 + 10_000)]);
    expect(rows(objects)).toEqual([]);
    await processor.apply([
      event(1, randomUUID(), '/other', T0 + 60_000 + 30_000 + 10_000, 1, 'shardId-000000000001'),
    ]);
    await processor.apply([event(6, randomUUID(), '/other', T0 + 60_000 + 30_000 + 10_001)]);
    expect(rows(objects)).toEqual([
      expect.objectContaining({
        page: '/home',
        window_start: T0,
        window_end: T0 + 60_000,
        events: 2,
        purchases: 2,
        revenue: 12,
      }),
    ]);
  });

  test('when a cold instance takes over a shard, it reads the dedupe ids of the pending windows and still drops a duplicate', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const instance = () =>
      new BatchProcessor({
        pipeline: pageActivity,
        store: new InMemoryStateStore({ tables }),
        objects,
        encoder: jsonEncoder,
        clock: { now: () => T0 },
      });
    const id = randomUUID();
    await instance().apply([event(1, id, '/home', T0 + 1_000)]);
    await instance().apply([event(2, randomUUID(), '/home', T0 + 2_000)]);
    const cold = await instance().apply([event(3, id, '/home', T0 + 1_000)]);
    expect(cold.duplicateEvents).toBe(1);
    await instance().tick(Number.POSITIVE_INFINITY);
    expect(rows(objects)).toEqual([expect.objectContaining({ page: '/home', events: 2 })]);
  });

  test('when a batch dropped a producer duplicate and crashed before its commit, the redelivery drops it again and loses nothing', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const processor = (store = new InMemoryStateStore({ tables })) =>
      new BatchProcessor({
        pipeline: pageActivity,
        store,
        objects,
        encoder: jsonEncoder,
        clock: { now: () => T0 },
      });
    const original = randomUUID();
    await processor().apply([event(1, original, '/p1', T0 + 1_000)]);
    const batch = [event(2, original, '/p1', T0 + 1_000), event(3, randomUUID(), '/p1', T0 + 2_000)];
    await expect(processor(storeCrashingBeforeCommit(tables)).apply(batch)).rejects.toThrow(
      'Applying a batch of 2 records',
    );
    expect(await processor().apply(batch)).toMatchObject({ duplicateEvents: 1, rejected: 0, late: 0 });
    await processor().tick(Number.POSITIVE_INFINITY);
    expect(rows(objects)).toEqual([expect.objectContaining({ page: '/p1', events: 2 })]);
  });
});

describe('BatchProcessor limits', () => {
  test('when more events than maxDedupeIds were applied, only the most recent ids are kept: an older duplicate counts again', async () => {
    const store = new InMemoryStateStore();
    const objects = new InMemoryObjectStore();
    const processor = new BatchProcessor(
      { pipeline: pageActivity, store, objects, encoder: jsonEncoder, clock: { now: () => T0 } },
      { maxDedupeIds: 10 },
    );
    const ids = Array.from({ length: 30 }, () => randomUUID());
    for (let b = 0; b < ids.length; b += 10)
      await processor.apply(ids.slice(b, b + 10).map((id, i) => event(b + i + 1, id, '/hot', T0 + 1_000)));
    expect((await processor.apply([event(31, ids[29]!, '/hot', T0 + 1_000)])).duplicateEvents).toBe(1);
    expect((await processor.apply([event(32, ids[0]!, '/hot', T0 + 1_000)])).duplicateEvents).toBe(0);
  });
});
