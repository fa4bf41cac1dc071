import { randomUUID } from 'node:crypto';
import { BatchProcessor, MAX_SEEN_IDS } from '../../../../functions/core/state/BatchProcessor';
import { dedupeHash } from '../../../../functions/core/state/keys';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { ResultEncoder, StatefulPipeline } from '../../../../functions/core/state/types';
import type { RawRecord } from '../../../../functions/core/types';
import { pageActivity } from '../../../../functions/pipelines';
import { storeCrashingBeforeProgress } from '../../../helpers/crashingStore';

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

describe('BatchProcessor late side output with the shipped page-activity pipeline', () => {
  test('when a batch dropped a producer duplicate, crashed, and its window closed before the redelivery, the duplicate stays dropped and the late record is in late/ once', async () => {
    const A = 'shardId-000000000000';
    const B = 'shardId-000000000001';
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    let now = T0;
    const processor = (store = new InMemoryStateStore({ tables })) => new BatchProcessor({ pipeline: pageActivity, store, objects, encoder, clock: { now: () => now } });
    const on = (shardId: string, record: RawRecord): RawRecord => ({ ...record, shardId });
    const original = randomUUID();
    await processor().apply([on(A, event(1, original, '/p1', T0 + 1_000)), on(A, event(2, randomUUID(), '/p9', T0 + 50_000))]);
    await processor().apply([on(B, event(1, randomUUID(), '/p9', T0 + 50_000))]);
    // B/2 repeats the counted event (dropped while /p1's window is open); B/3 is late already.
    const crashing = storeCrashingBeforeProgress(tables);
    const batch = [on(B, event(2, original, '/p1', T0 + 1_000)), on(B, event(3, randomUUID(), '/p2', T0 - 30_000))];
    await expect(processor(crashing).apply(batch)).rejects.toThrow('Applying a batch of 2 records');
    now = T0 + 100_000;
    await processor().apply([on(A, event(3, randomUUID(), '/p9', T0 + 180_000))]);
    await processor().apply(batch);
    const late = [...objects.objects.keys()].filter((k) => k.startsWith('late/')).flatMap((k) => (objects.text(k) ?? '').trim().split('\n').map((l) => (JSON.parse(l) as { sequenceNumber: string }).sequenceNumber));
    // B/2 stays a dropped duplicate (its window's fence covers it), B/3 is late: each once.
    expect(late).toEqual(['3']);
    const p1 = [...objects.objects.keys()].filter((k) => k.startsWith('results/')).flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[]).filter((row) => row.page === '/p1');
    expect(p1).toEqual([expect.objectContaining({ events: 1 })]);
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
