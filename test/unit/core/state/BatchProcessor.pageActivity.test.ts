import { randomUUID } from 'node:crypto';
import { BatchProcessor, MAX_SEEN_IDS } from '../../../../functions/core/state/BatchProcessor';
import { dedupeHash } from '../../../../functions/core/state/keys';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import type { ResultEncoder, StatefulPipeline } from '../../../../functions/core/state/types';
import type { RawRecord } from '../../../../functions/core/types';
import { pageActivity } from '../../../../functions/pipelines';

const encoder: ResultEncoder = { contentType: 'application/json', extension: 'json', encode: (_c, rows) => new TextEncoder().encode(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) };
const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);

function event(seq: number, eventId: string, page: string, ts: number, revenue = 1): RawRecord {
  const value = { eventId, userId: `u${seq % 7}`, sessionId: 's', page, action: 'purchase', country: 'DE', device: 'mobile', durationMs: seq, revenue, ts: new Date(ts).toISOString() };
  return { shardId: SHARD, sequenceNumber: String(seq), partitionKey: page, data: Buffer.from(JSON.stringify(value)).toString('base64'), approximateArrivalTimestamp: ts };
}

describe('BatchProcessor with the shipped page-activity pipeline', () => {
  test('when a producer sends an event again in the same and in a later batch, the window counts it once, reports each duplicate, and emits the engine row', async () => {
    const pipeline: StatefulPipeline = pageActivity;
    const store = new InMemoryStateStore();
    const objects = new InMemoryObjectStore();
    const processor = new BatchProcessor({ pipeline, store, objects, encoder, clock: { now: () => T0 } });
    const id = randomUUID();
    const first = await processor.apply([event(1, id, '/home', T0 + 1_000, 5), event(2, randomUUID(), '/home', T0 + 2_000, 7), event(3, id, '/home', T0 + 1_000, 5)]);
    const second = await processor.apply([event(4, id, '/home', T0 + 1_000, 5)]);
    expect([first.duplicateEvents, second.duplicateEvents]).toEqual([1, 1]);
    // A redelivery is skipped by the sequence fence before any dedupe: not counted as a producer duplicate.
    expect(await processor.apply([event(4, id, '/home', T0 + 1_000, 5)])).toMatchObject({ duplicates: 1, duplicateEvents: 0 });
    const [item] = store.allWindows();
    expect(item?.records).toBe(2);
    expect(item?.seenIds).toHaveLength(2);
    // Watermark = max event time − 10 s out-of-orderness must pass end + 30 s lateness, on both shards.
    await processor.apply([event(5, randomUUID(), '/other', T0 + 60_000 + 30_000 + 10_000)]);
    expect([...objects.objects.keys()].filter((k) => k.startsWith('results/'))).toEqual([]);
    await processor.apply([{ ...event(1, randomUUID(), '/other', T0 + 60_000 + 30_000 + 10_000), shardId: 'shardId-000000000001' }]);
    const rows = [...objects.objects.keys()].filter((k) => k.startsWith('results/page_activity_minutely/dt=2026-01-02/hour=03/')).map((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[]);
    expect(rows).toEqual([[expect.objectContaining({ page: '/home', window_start: T0, window_end: T0 + 60_000, events: 2, purchases: 2, revenue: 12 })]]);
  });
});

describe('BatchProcessor limits', () => {
  test('when a window has seen more than MAX_SEEN_IDS events, it keeps the most recent ids so the item stays bounded', async () => {
    const store = new InMemoryStateStore();
    const processor = new BatchProcessor({ pipeline: pageActivity, store, objects: new InMemoryObjectStore(), encoder, clock: { now: () => T0 } });
    const ids = Array.from({ length: MAX_SEEN_IDS + 500 }, () => randomUUID());
    for (let b = 0; b < ids.length; b += 1_000) {
      await processor.apply(ids.slice(b, b + 1_000).map((id, i) => event(b + i + 1, id, '/hot', T0 + 1_000)));
    }
    const [item] = store.allWindows();
    expect(item?.records).toBe(ids.length);
    expect(item?.seenIds).toHaveLength(MAX_SEEN_IDS);
    expect(item?.seenIds?.[MAX_SEEN_IDS - 1]).toBe(dedupeHash(ids[ids.length - 1] ?? ''));
  });

  test('when a pipeline uses session windows, construction refuses it instead of splitting sessions', () => {
    const sessionPipeline = { ...pageActivity, spec: { ...pageActivity.spec, window: { kind: 'session', gapMs: 1_000 } } } as unknown as StatefulPipeline;
    expect(() => new BatchProcessor({ pipeline: sessionPipeline, store: new InMemoryStateStore(), objects: new InMemoryObjectStore(), encoder, clock: { now: () => T0 } })).toThrow('uses session windows');
  });
});
