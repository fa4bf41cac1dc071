import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { BatchApplyError } from '../../../../functions/core/state/errors';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { emissionId } from '../../../../functions/core/state/keys';
import type { ResultEncoder, StateStore } from '../../../../functions/core/state/types';
import type { ColumnSpec, RawRecord, ResultRow } from '../../../../functions/core/types';
import { pageViewsPipeline, rawRecord, WINDOW_MS } from '../../../faults/pageViewsPipeline';
import { storeCrashingBeforeProgress } from '../../../helpers/crashingStore';

/** Encodes rows as JSON lines (bigint as string) so the assertions can read them. */
const jsonEncoder: ResultEncoder = {
  contentType: 'application/json',
  extension: 'json',
  encode: (_columns: readonly ColumnSpec[], rows: readonly ResultRow[]) => new TextEncoder().encode(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))),
};

const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);

function setup(options: { tables?: InMemoryStateTables; objects?: InMemoryObjectStore; store?: StateStore; now?: number } = {}) {
  const tables = options.tables ?? new InMemoryStateTables();
  const store = options.store ?? new InMemoryStateStore({ tables });
  const objects = options.objects ?? new InMemoryObjectStore();
  const pipeline = pageViewsPipeline();
  const processor = new BatchProcessor({ pipeline, store, objects, encoder: jsonEncoder, clock: { now: () => options.now ?? T0 } });
  return { tables, store, objects, pipeline, processor };
}

function views(from: number, count: number, shard = SHARD, users = 5, baseTs = T0): RawRecord[] {
  return Array.from({ length: count }, (_, i) => rawRecord(shard, from + i, { id: `e${from + i}`, user: `u${(from + i) % users}`, ms: from + i, ts: baseTs + (from + i) * 100 }));
}

function results(objects: InMemoryObjectStore): Record<string, unknown>[] {
  return [...objects.objects.keys()].filter((k) => k.startsWith('results/')).flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[]);
}

function lines(objects: InMemoryObjectStore, prefix: string): Record<string, unknown>[] {
  return [...objects.objects.keys()].filter((k) => k.startsWith(prefix)).flatMap((k) => (objects.text(k) ?? '').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('BatchProcessor', () => {
  test('when a batch is applied, it writes one item per (key, window) plus progress, and a warm instance skips the read', async () => {
    const { processor, store, tables } = setup();
    const first = await processor.apply(views(1, 100));
    expect(first).toMatchObject({ recordsIn: 100, duplicates: 0, rejected: 0, late: 0, windowsWritten: 5 });
    // readProgress + readWindows + 5 writes + progress; listDue/nextCloseAt on the first watermark.
    const cold = store.stats.requests;
    const second = await processor.apply(views(101, 100));
    expect(second.windowsWritten).toBe(5);
    expect(store.stats.requests - cold).toBeLessThanOrEqual(5 + 2);
    const total = [...tables.windows.values()].reduce((sum, w) => sum + w.item.records, 0);
    expect(total).toBe(200);
  });

  test('when the same batch is delivered twice, the second delivery changes nothing', async () => {
    const { processor, tables, objects } = setup();
    const batch = views(1, 50);
    await processor.apply(batch);
    const snapshot = structuredClone([...tables.windows.values()]);
    const keys = [...objects.objects.keys()].sort();
    const again = await processor.apply(batch);
    expect(again).toMatchObject({ duplicates: 50, windowsWritten: 0 });
    expect([...tables.windows.values()]).toEqual(snapshot);
    expect([...objects.objects.keys()].sort()).toEqual(keys);
  });

  test('when the watermark passes a window close time, it emits the window once with a deterministic id', async () => {
    const { processor, objects, tables, pipeline } = setup();
    await processor.apply([rawRecord(SHARD, 1, { id: 'a', user: 'alice', ms: 10, ts: T0 + 1 }), rawRecord(SHARD, 2, { id: 'b', user: 'alice', ms: 30, ts: T0 + 2 })]);
    expect(results(objects)).toEqual([]);
    const closing = await processor.apply([rawRecord(SHARD, 3, { id: 'c', user: 'bob', ms: 1, ts: T0 + WINDOW_MS + 6_000 })]);
    expect(closing.windowsEmitted).toBe(1);
    const id = emissionId(pipeline.spec.name, 'alice', { start: T0, end: T0 + WINDOW_MS });
    expect(objects.objects.has(`results/page_views_by_user/dt=2026-01-02/hour=03/${id}.json`)).toBe(true);
    expect(results(objects)).toEqual([{ user: 'alice', window_start: T0, window_end: T0 + WINDOW_MS, views: '2', total_ms: 40, min_ms: 10, max_ms: 30, avg_ms: 20 }]);
    const alice = [...tables.windows.values()].find((w) => w.item.key === 'alice');
    expect(alice?.item).toMatchObject({ status: 'emitted', emissionId: id, version: 3 });
    await processor.tick();
    expect(results(objects)).toHaveLength(1);
  });

  test('when a user map function throws on a poison record, it is dead-lettered and the shard moves on', async () => {
    const { processor, objects, tables } = setup();
    const result = await processor.apply([
      rawRecord(SHARD, 1, { id: 'a', user: 'alice', ms: 1, ts: T0 }),
      rawRecord(SHARD, 2, { id: 'p', user: 'mallory', ms: 1, ts: T0, page: 'poison' }),
      rawRecord(SHARD, 3, 'not json'),
      rawRecord(SHARD, 4, { id: 'b', user: 'alice', ms: 2, ts: T0 }),
    ]);
    expect(result).toMatchObject({ rejected: 2, windowsWritten: 1 });
    const rejected = lines(objects, 'rejected/');
    expect(rejected.map((r) => [r.sequenceNumber, r.reason])).toEqual([
      ['2', 'OPERATOR_THREW'],
      ['3', 'INVALID_JSON'],
    ]);
    expect(tables.shards.get('page-views')?.get(SHARD)?.lastSequence).toMatch(/0+4$/);
    expect([...tables.windows.values()][0]?.item.records).toBe(2);
  });

  test('when a record arrives for a closed window, it goes to late/ and is not counted', async () => {
    const { processor, objects } = setup();
    await processor.apply([rawRecord(SHARD, 1, { id: 'a', user: 'alice', ms: 1, ts: T0 }), rawRecord(SHARD, 2, { id: 'b', user: 'bob', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
    const result = await processor.apply([rawRecord(SHARD, 3, { id: 'c', user: 'alice', ms: 5, ts: T0 + 10 })]);
    expect(result.late).toBe(1);
    expect(lines(objects, 'late/')).toEqual([expect.objectContaining({ key: 'alice', sequenceNumber: '3', eventTime: T0 + 10 })]);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '1' })]);
  });

  test('when a window closes while a batch for it is in flight, its records go to late/ as records, once, and are not counted', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const A = 'shardId-000000000000';
    const B = 'shardId-000000000001';
    const a = setup({ tables, objects });
    const bStore = new InMemoryStateStore({ tables });
    const b = setup({ tables, objects, store: bStore });
    await a.processor.apply([rawRecord(A, 1, { id: 'a1', user: 'alice', ms: 1, ts: T0 })]);
    await b.processor.apply([rawRecord(B, 1, { id: 'b1', user: 'bob', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
    // B's next batch carries an old alice record (window still open: shard A holds the watermark back).
    // While it is in flight, shard A moves on and closes alice's window.
    const read = bStore.readWindows.bind(bStore);
    let raced = false;
    bStore.readWindows = async (...args) => {
      const items = await read(...args);
      if (!raced) {
        raced = true;
        await a.processor.apply([rawRecord(A, 2, { id: 'a2', user: 'carol', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
      }
      return items;
    };
    const batch = [rawRecord(B, 2, { id: 'b2', user: 'alice', ms: 7, ts: T0 + 10 }), rawRecord(B, 3, { id: 'b3', user: 'bob', ms: 1, ts: T0 + 3 * WINDOW_MS + 5 })];
    const result = await b.processor.apply(batch);
    expect(raced).toBe(true);
    expect(result.late).toBe(1);
    expect(lines(objects, 'late/')).toEqual([expect.objectContaining({ key: 'alice', shardId: B, sequenceNumber: '2', eventTime: T0 + 10 })]);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '1', total_ms: 1 })]);
    // A redelivery of the same batch adds nothing anywhere.
    const keys = [...objects.objects.keys()].sort();
    await setup({ tables, objects }).processor.apply(batch);
    expect([...objects.objects.keys()].sort()).toEqual(keys);
    expect(lines(objects, 'late/')).toHaveLength(1);
  });

  test('when a window closes under a batch that then crashes at any store or object call, redelivery leaves each record once in results or late/', async () => {
    const A = 'shardId-000000000000';
    const B = 'shardId-000000000001';
    const batch = [
      rawRecord(B, 2, { id: 'b2', user: 'alice', ms: 7, ts: T0 + 10 }),
      rawRecord(B, 3, { id: 'b3', user: 'bob', ms: 1, ts: T0 + 3 * WINDOW_MS + 5 }),
      rawRecord(B, 4, { id: 'b4', user: 'dave', ms: 2, ts: T0 + 20 }),
    ];
    let crashes = 0;
    for (let crashAt = 0; crashAt < 40; crashAt++) {
      for (const after of [false, true]) {
        for (const bisect of [false, true]) {
          const tables = new InMemoryStateTables();
          const objects = new InMemoryObjectStore();
          const a = setup({ tables, objects });
          await a.processor.apply([rawRecord(A, 1, { id: 'a1', user: 'alice', ms: 1, ts: T0 })]);
          await setup({ tables, objects }).processor.apply([rawRecord(B, 1, { id: 'b1', user: 'bob', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
          // B's instance: shard A closes alice's window at B's first window read; call `crashAt` fails.
          let calls = 0;
          let raced = false;
          const crashing = <T extends object>(target: T, methods: readonly (keyof T)[]): T => {
            for (const method of methods) {
              const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
              (target as Record<keyof T, unknown>)[method] = async (...args: unknown[]) => {
                const call = calls++;
                if (call === crashAt && !after) throw new Error(`crash before call ${call}`);
                const value = await original(...args);
                if (method === 'readWindows' && !raced) {
                  raced = true;
                  await a.processor.apply([rawRecord(A, 2, { id: 'a2', user: 'carol', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
                }
                if (call === crashAt && after) throw new Error(`crash after call ${call}`);
                return value;
              };
            }
            return target;
          };
          const bStore = crashing(new InMemoryStateStore({ tables }), ['readProgress', 'readWindows', 'writeWindow', 'writeShardProgress', 'raiseClosedWatermark', 'listDueWindows', 'nextCloseAt']);
          const bObjects = crashing({ putObject: objects.putObject.bind(objects), listKeys: objects.listKeys.bind(objects), deleteObject: objects.deleteObject.bind(objects) }, ['putObject', 'listKeys', 'deleteObject']);
          const b = new BatchProcessor({ pipeline: pageViewsPipeline(), store: bStore, objects: bObjects, encoder: jsonEncoder, clock: { now: () => T0 } });
          const crashed = await b.apply(batch).then(
            () => false,
            () => true,
          );
          if (crashed) crashes += 1;
          if (!raced) await a.processor.apply([rawRecord(A, 2, { id: 'a2', user: 'carol', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
          const retry = setup({ tables, objects }).processor;
          if (bisect) {
            await retry.apply(batch.slice(0, 1));
            await retry.apply(batch.slice(1));
          } else {
            await retry.apply(batch);
          }
          await setup({ tables, objects }).processor.tick(Number.MAX_SAFE_INTEGER);
          const late = lines(objects, 'late/').map((r) => r.sequenceNumber);
          const views = results(objects).reduce((sum, row) => sum + Number(row.views), 0);
          const label = `crash ${after ? 'after' : 'before'} call ${crashAt}, ${bisect ? 'bisected' : 'whole'} redelivery`;
          expect({ label, lateUnique: new Set(late).size === late.length, accounted: views + late.length }).toEqual({ label, lateUnique: true, accounted: 6 });
          const alice = results(objects).find((row) => row.user === 'alice' && row.window_start === T0);
          expect({ label, alice: Number(alice?.views) }).toEqual({ label, alice: late.includes('2') ? 1 : 2 });
        }
      }
    }
    expect(crashes).toBeGreaterThan(40);
  });

  test('when a redelivery lands on an instance whose cache predates the crashed attempt, a record already in the closed window is not also late', async () => {
    const A = 'shardId-000000000000';
    const B = 'shardId-000000000001';
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const warm = setup({ tables, objects });
    await setup({ tables, objects }).processor.apply([rawRecord(A, 1, { id: 'a1', user: 'bob', ms: 1, ts: T0 })]);
    // The warm instance caches alice's window (without B/3).
    await warm.processor.apply([rawRecord(B, 1, { id: 'b1', user: 'alice', ms: 1, ts: T0 + 5 }), rawRecord(B, 2, { id: 'b2', user: 'carol', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
    // Another instance applies B/3 to alice's window, then crashes before its progress write.
    const crashing = storeCrashingBeforeProgress(tables);
    const b3 = [rawRecord(B, 3, { id: 'b3', user: 'alice', ms: 1, ts: T0 + 10 })];
    await expect(setup({ tables, objects, store: crashing }).processor.apply(b3)).rejects.toThrow(BatchApplyError);
    // Shard A moves on: alice's window closes with B/3 in it. The redelivery lands on the warm instance.
    await setup({ tables, objects }).processor.apply([rawRecord(A, 2, { id: 'a2', user: 'dave', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
    const redelivered = await warm.processor.apply(b3);
    expect(redelivered.late).toBe(0);
    expect(lines(objects, 'late/')).toEqual([]);
    expect(results(objects).filter((row) => row.user === 'alice')).toEqual([expect.objectContaining({ views: '2' })]);
  });

  test('when a racing copy of a batch read progress before a window closed and has not created it yet, its records go to late/ only', async () => {
    const A = 'shardId-000000000000';
    const B = 'shardId-000000000001';
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    await setup({ tables, objects }).processor.apply([rawRecord(A, 1, { id: 'a1', user: 'bob', ms: 1, ts: T0 })]);
    await setup({ tables, objects }).processor.apply([rawRecord(B, 1, { id: 'b1', user: 'carol', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
    // Copy 1 reads progress (window of alice still open), then stalls before its window write.
    const slowStore = new InMemoryStateStore({ tables });
    const write = slowStore.writeWindow.bind(slowStore);
    let release: () => void = () => undefined;
    let stalled: () => void = () => undefined;
    const reachedWrite = new Promise<void>((resolve) => (stalled = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    slowStore.writeWindow = async (...args) => {
      stalled();
      await gate;
      return write(...args);
    };
    const batch = [rawRecord(B, 2, { id: 'b2', user: 'alice', ms: 3, ts: T0 + 10 })];
    const copy1 = setup({ tables, objects, store: slowStore }).processor.apply(batch);
    await reachedWrite;
    // Shard A closes alice's window (no item yet); copy 2 of the same batch now sees the record as late.
    await setup({ tables, objects }).processor.apply([rawRecord(A, 2, { id: 'a2', user: 'dave', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
    const copy2 = await setup({ tables, objects }).processor.apply(batch);
    expect(copy2.late).toBe(1);
    release();
    await copy1;
    await setup({ tables, objects }).processor.tick(Number.MAX_SAFE_INTEGER);
    expect(lines(objects, 'late/').map((r) => r.sequenceNumber)).toEqual(['2']);
    expect(results(objects).filter((row) => row.user === 'alice')).toEqual([]);
  });

  test('when a late record froze its window and the watermark then went back down (an idle shard resumed), a batch of that shard still moves on', async () => {
    const A = 'shardId-000000000000';
    const B = 'shardId-000000000001';
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    let now = T0;
    const instance = () => new BatchProcessor({ pipeline: pageViewsPipeline({ idleTimeoutMs: 10_000 }), store: new InMemoryStateStore({ tables }), objects, encoder: jsonEncoder, clock: { now: () => now } });
    await instance().tick(undefined, { shardIds: [A, B] });
    now = T0 + 20_000; // both shards idle
    await instance().apply([rawRecord(A, 1, { id: 'a1', user: 'y', ms: 1, ts: T0 + 3 * WINDOW_MS })]);
    // Late by A's watermark (B idle): k's window is frozen with no item.
    expect((await instance().apply([rawRecord(A, 2, { id: 'a2', user: 'k', ms: 1, ts: T0 + 10 })])).late).toBe(1);
    // B resumes with its own low watermark (its record is late too); the pipeline watermark goes back down.
    expect((await instance().apply([rawRecord(B, 1, { id: 'b1', user: 'z', ms: 1, ts: T0 + 20 })])).late).toBe(1);
    const next = await instance().apply([rawRecord(B, 2, { id: 'b2', user: 'k', ms: 1, ts: T0 + 30 })]);
    expect(next.late).toBe(1);
    expect(lines(objects, 'late/').map((r) => [r.shardId, r.sequenceNumber])).toEqual([
      [A, '2'],
      [B, '1'],
      [B, '2'],
    ]);
  });

  test('when a crashed batch is redelivered in bisected halves, the clean archive holds every record exactly once', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const failing = new InMemoryStateStore({ tables });
    const original = failing.writeShardProgress.bind(failing);
    failing.writeShardProgress = async () => {
      throw new Error('crash before the progress write');
    };
    const batch = views(1, 40);
    await expect(setup({ tables, objects, store: failing }).processor.apply(batch)).rejects.toThrow(BatchApplyError);
    failing.writeShardProgress = original;
    const { processor } = setup({ tables, objects });
    await processor.apply(batch.slice(0, 20));
    await processor.apply(batch.slice(20));
    const archived = lines(objects, 'clean/').map((r) => r.sequenceNumber);
    expect(archived).toHaveLength(40);
    expect(new Set(archived).size).toBe(40);
    expect([...tables.windows.values()].reduce((sum, w) => sum + w.item.records, 0)).toBe(40);
  });

  test('when a concurrent writer wins the conditional write, it re-merges from the stored item without losing or doubling records', async () => {
    const tables = new InMemoryStateTables();
    const a = setup({ tables });
    const b = setup({ tables });
    await a.processor.apply(views(1, 10));
    await b.processor.apply(views(1, 20)); // overlaps a's records 1..10 (a redelivery racing ahead)
    await a.processor.apply(views(21, 10));
    expect([...tables.windows.values()].reduce((sum, w) => sum + w.item.records, 0)).toBe(30);
    expect(a.store.stats.conflicts + b.store.stats.conflicts).toBeGreaterThan(0);
  });

  test('when the store fails before the records are in, it reports that no record is applied', async () => {
    const store = new InMemoryStateStore();
    store.readProgress = async () => {
      throw new Error('throttled');
    };
    const { processor } = setup({ store });
    const error = await processor.apply(views(1, 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchApplyError);
    expect((error as BatchApplyError).recordsApplied).toBe(false);
    expect(((error as BatchApplyError).cause as Error).message).toBe('throttled');
  });

  test('when options are out of range, construction fails naming the value', () => {
    const { store, objects, pipeline } = setup();
    expect(() => new BatchProcessor({ pipeline, store, objects, encoder: jsonEncoder, clock: { now: () => 0 } }, { concurrency: 0 })).toThrow('concurrency must be an integer between 1 and 100 inclusive (given 0)');
  });

  test('when two instances close the same windows at once, each window is emitted once and both finish cleanly', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const a = setup({ tables, objects });
    const b = setup({ tables, objects });
    let puts = 0;
    const put = objects.putObject.bind(objects);
    objects.putObject = async (key, body, type) => {
      if (key.startsWith('results/')) puts += 1;
      await put(key, body, type);
    };
    await a.processor.apply(views(1, 30, SHARD, 6));
    await a.processor.apply([rawRecord(SHARD, 100, { id: 'z', user: 'late', ms: 1, ts: T0 + 10 * WINDOW_MS })]);
    const emittedByApply = results(objects).length;
    await b.processor.apply([rawRecord('shardId-000000000001', 1, { id: 'y', user: 'other', ms: 1, ts: T0 + 10 * WINDOW_MS })]);
    const [x, y] = await Promise.all([a.processor.tick(Number.MAX_SAFE_INTEGER), b.processor.tick(Number.MAX_SAFE_INTEGER)]);
    expect(emittedByApply).toBe(6);
    expect(x.windowsEmitted + y.windowsEmitted).toBe(2);
    expect(results(objects)).toHaveLength(8);
    expect(puts).toBe(8);
    expect([...tables.windows.values()].every((w) => w.item.status === 'emitted')).toBe(true);
  });

  test('when a provisioned shard has not reported yet, windows wait until the tick registers it and it goes idle', async () => {
    let now = T0;
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const pipeline = pageViewsPipeline({ shards: 2, idleTimeoutMs: 30_000 });
    const processor = new BatchProcessor({ pipeline, store: new InMemoryStateStore({ tables }), objects, encoder: jsonEncoder, clock: { now: () => now } });
    await processor.apply([rawRecord(SHARD, 1, { id: 'a', user: 'alice', ms: 1, ts: T0 }), rawRecord(SHARD, 2, { id: 'b', user: 'bob', ms: 1, ts: T0 + 5 * WINDOW_MS })]);
    expect(results(objects)).toEqual([]);
    await processor.tick(undefined, { shardIds: [SHARD, 'shardId-000000000001'] });
    expect(results(objects)).toEqual([]);
    now += 31_000;
    const closed = await processor.tick(undefined, { shardIds: [SHARD, 'shardId-000000000001'] });
    expect(closed.windowsEmitted).toBe(1);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '1' })]);
  });
});
