import { itemBytes } from '../../../../functions/core/state/stateItems';
import { writeUnits } from '../../../../functions/core/state/limits';
import { randomBytes } from 'node:crypto';
import { padSequence } from '../../../../functions/core/sequence';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { DEFAULT_SWEEP_LAG_MS } from '../../../../functions/core/state/outputSweep';
import { batchObjectKey } from '../../../../functions/core/state/paths';
import { BatchApplyError } from '../../../../functions/core/state/errors';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type {
  ObjectStore,
  ResultEncoder,
  StatefulPipeline,
  StateStore,
} from '../../../../functions/core/state/types';
import type { ColumnSpec, RawRecord, ResultRow } from '../../../../functions/core/types';
import {
  pageViewsPipeline,
  rawRecord,
  WINDOW_MS,
  type PageViewsOptions,
} from '../../../faults/pageViewsPipeline';
import { storeCrashingBeforeCommit } from '../../../helpers/crashingStore';

/** Encodes rows as JSON (bigint as string) so the assertions can read them. */
const jsonEncoder: ResultEncoder = {
  contentType: 'application/json',
  extension: 'json',
  encode: (_columns: readonly ColumnSpec[], rows: readonly ResultRow[]) =>
    new TextEncoder().encode(
      JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    ),
};

const A = 'shardId-000000000000';
const B = 'shardId-000000000001';
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);

interface SetupOptions {
  tables?: InMemoryStateTables;
  objects?: ObjectStore;
  store?: StateStore;
  now?: () => number;
  pipeline?: StatefulPipeline;
  pipelineOptions?: PageViewsOptions;
}

function setup(options: SetupOptions = {}) {
  const tables = options.tables ?? new InMemoryStateTables();
  const store = options.store ?? new InMemoryStateStore({ tables });
  // Tests that pass their own object store (a crashing wrapper) do not read it back through `setup`.
  const objects = (options.objects ?? new InMemoryObjectStore()) as InMemoryObjectStore;
  const pipeline = options.pipeline ?? pageViewsPipeline(options.pipelineOptions);
  const processor = new BatchProcessor({
    pipeline,
    store,
    objects,
    encoder: jsonEncoder,
    clock: { now: options.now ?? (() => T0) },
  });
  return { tables, store, objects, pipeline, processor };
}

const view = (shard: string, seq: number, user: string, ts: number, ms = 1) =>
  rawRecord(shard, seq, { id: `${shard}-${seq}`, user, ms, ts });

function views(from: number, count: number, shard = A, users = 5, baseTs = T0): RawRecord[] {
  return Array.from({ length: count }, (_, i) =>
    rawRecord(shard, from + i, {
      id: `e${from + i}`,
      user: `u${(from + i) % users}`,
      ms: from + i,
      ts: baseTs + (from + i) * 100,
    }),
  );
}

function results(objects: InMemoryObjectStore): Record<string, unknown>[] {
  return [...objects.objects.keys()]
    .filter((k) => k.startsWith('results/'))
    .sort()
    .flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[]);
}

function lines(objects: InMemoryObjectStore, prefix: string): Record<string, unknown>[] {
  return objects.jsonLines<Record<string, unknown>>(prefix);
}

const counted = (objects: InMemoryObjectStore): number =>
  results(objects).reduce((sum, row) => sum + Number(row.views), 0);

describe('BatchProcessor', () => {
  test('when a batch is applied, it is one read, one segment put and one progress put whatever the number of keys', async () => {
    const batch = (from: number, users: number): RawRecord[] =>
      Array.from({ length: 1_000 }, (_, i) => view(A, from + i, `u${i % users}`, T0 + from + i));
    for (const users of [5, 1_000]) {
      const { processor, store, tables } = setup();
      const first = await processor.apply(batch(1, users));
      expect(first).toMatchObject({
        recordsIn: 1_000,
        duplicates: 0,
        rejected: 0,
        late: 0,
        windowsWritten: users,
      });
      const before = store.stats.requests;
      const unitsBefore = store.stats.writeUnits;
      await processor.apply(batch(1_001, users));
      expect(store.stats.requests - before).toBe(3);
      // No transaction: each item's units once (a transaction would bill every item twice).
      // No transaction: the new segment chunk and the progress item, each item's units once (a transaction
      // bills every item twice).
      const written = [...tables.partitions.values()]
        .flatMap((partition) => [...partition.entries()])
        .filter(([sk]) => sk.startsWith('000000000002#') || sk.startsWith('S#'))
        .map(([, item]) => writeUnits(itemBytes(item)));
      expect(written).toHaveLength(2);
      expect(store.stats.writeUnits - unitsBefore).toBe(written[0]! + written[1]!);
    }
  });

  test('when the same batch is delivered twice, the second delivery changes nothing', async () => {
    const { processor, tables, objects } = setup();
    const batch = views(1, 50);
    await processor.apply(batch);
    const items = tables.items();
    const keys = [...objects.objects.keys()].sort();
    const again = await processor.apply(batch);
    expect(again).toMatchObject({ duplicates: 50, windowsWritten: 0 });
    expect(tables.items()).toEqual(items);
    expect([...objects.objects.keys()].sort()).toEqual(keys);
  });

  test('when every shard has frozen a window, it is emitted once as one object with every key, sorted by key', async () => {
    const { processor, objects } = setup();
    await processor.apply([
      view(A, 1, 'carol', T0 + 3, 5),
      view(A, 2, 'alice', T0 + 1, 10),
      view(A, 3, 'alice', T0 + 2, 30),
    ]);
    expect(results(objects)).toEqual([]);
    const closing = await processor.apply([view(A, 4, 'bob', T0 + WINDOW_MS + 6_000)]);
    expect(closing.windowsEmitted).toBe(1);
    expect([...objects.objects.keys()].filter((k) => k.startsWith('results/'))).toEqual([
      `results/page_views_by_user/dt=2026-01-02/hour=03/${T0}-${T0 + WINDOW_MS}.json`,
    ]);
    expect(results(objects)).toEqual([
      {
        user: 'alice',
        window_start: T0,
        window_end: T0 + WINDOW_MS,
        views: '2',
        total_ms: 40,
        min_ms: 10,
        max_ms: 30,
        avg_ms: 20,
      },
      {
        user: 'carol',
        window_start: T0,
        window_end: T0 + WINDOW_MS,
        views: '1',
        total_ms: 5,
        min_ms: 5,
        max_ms: 5,
        avg_ms: 5,
      },
    ]);
    await processor.tick();
    expect(results(objects)).toHaveLength(2);
  });

  test("when a commit loses to a tick raising the shard's close mark, its segment attempt is deleted and the retry takes attempt 0 again", async () => {
    const tables = new InMemoryStateTables();
    const inner = new InMemoryStateStore({ tables });
    const rival = new InMemoryStateStore({ tables });
    let raced = false;
    const store: StateStore = {
      get stats() {
        return inner.stats;
      },
      readProgress: (pipeline) => inner.readProgress(pipeline),
      writeSegment: (segment) => inner.writeSegment(segment),
      checkSegment: (segment) => inner.checkSegment(segment),
      checkProgress: (progress, addsState) => inner.checkProgress(progress, addsState),
      deleteSegment: (segment) => inner.deleteSegment(segment),
      raisePipeline: (pipeline, marks) => inner.raisePipeline(pipeline, marks),
      claimSessionPass: (pipeline, after, end) => inner.claimSessionPass(pipeline, after, end),
      registerShape: (pipeline, shape) => inner.registerShape(pipeline, shape),
      readSegments: (progress, from, to) => inner.readSegments(progress, from, to),
      readCommitLog: (progress, from, to) => inner.readCommitLog(progress, from, to),
      commit: async (commit) => {
        if (!raced && commit.expectedVersion !== undefined) {
          // The tick writes the shard's item first (its close mark), so this commit loses.
          raced = true;
          const [stored] = (await rival.readProgress('page-views')).shards;
          await rival.commit({
            progress: { ...stored!, version: stored!.version + 1 },
            expectedVersion: stored!.version,
          });
        }
        return inner.commit(commit);
      },
    };
    const { processor, objects } = setup({ tables, store });
    await processor.apply(views(1, 10));
    const second = await processor.apply(views(11, 10));
    expect(second.conflicts).toBe(1);
    const [shard] = (await store.readProgress('page-views')).shards;
    expect(shard).toMatchObject({ commits: 2 });
    expect(shard!.attempts).toBeUndefined();
    const segmentKeys = [...tables.partitions.values()]
      .flatMap((p) => [...p.keys()])
      .filter((k) => /^\d{12}#/.test(k));
    expect(segmentKeys.map((k) => k.slice(0, 17)).sort()).toEqual(['000000000001#0000', '000000000002#0000']);
    await processor.tick(Number.POSITIVE_INFINITY);
    expect(counted(objects)).toBe(20);
  });

  test('when a user map function throws on a poison record, it is dead-lettered and the shard moves on', async () => {
    const { processor, objects, store } = setup();
    const result = await processor.apply([
      view(A, 1, 'alice', T0),
      rawRecord(A, 2, { id: 'p', user: 'mallory', ms: 1, ts: T0, page: 'poison' }),
      rawRecord(A, 3, 'not json'),
      view(A, 4, 'alice', T0),
    ]);
    expect(result).toMatchObject({ rejected: 2, windowsWritten: 1 });
    expect(lines(objects, 'rejected/').map((r) => [r.sequenceNumber, r.reason])).toEqual([
      ['2', 'OPERATOR_THREW'],
      ['3', 'INVALID_JSON'],
    ]);
    expect((await store.readProgress('page-views')).shards[0]?.lastSequence).toMatch(/0+4$/);
    await processor.tick(Number.POSITIVE_INFINITY);
    expect(counted(objects)).toBe(2);
  });

  test('when a batch is redelivered, side outputs an earlier attempt left under records a commit covers are removed', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const first = setup({ tables, objects });
    await first.processor.apply(views(1, 3));
    await first.processor.apply(views(4, 2));
    // What a stalled copy of a longer batch (records 1..5) wrote after the commit of 1..3 had cleaned its
    // prefix, before it failed: no commit will ever start at record 1 again, and the shard's last commit
    // (4..5) has another prefix.
    const orphan = batchObjectKey('clean', 'page-views', 0, A, padSequence('1'), padSequence('5'));
    await objects.putObject(orphan, '{"sequenceNumber":"1"}\n', 'application/x-ndjson');
    const redelivered = await setup({ tables, objects }).processor.apply(views(1, 6));
    expect(redelivered.duplicates).toBe(5);
    expect(objects.objects.has(orphan)).toBe(false);
    const cleaned = lines(objects, 'clean/').map((line) => Number(line.sequenceNumber));
    expect(cleaned.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('when a record arrives for a window its shard has frozen, it goes to late/ and is not counted', async () => {
    const { processor, objects } = setup();
    await processor.apply([view(A, 1, 'alice', T0), view(A, 2, 'bob', T0 + 3 * WINDOW_MS)]);
    const result = await processor.apply([view(A, 3, 'alice', T0 + 10, 5)]);
    expect(result.late).toBe(1);
    expect(lines(objects, 'late/')).toEqual([
      expect.objectContaining({ key: 'alice', sequenceNumber: '3', eventTime: T0 + 10 }),
    ]);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '1' })]);
  });

  test('when a window has records from two shards, it waits until both froze it and then holds both', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const a = setup({ tables, objects });
    const b = setup({ tables, objects });
    await a.processor.apply([view(A, 1, 'alice', T0)]);
    await b.processor.apply([view(B, 1, 'alice', T0 + 5), view(B, 2, 'bob', T0 + 3 * WINDOW_MS)]);
    expect(results(objects)).toEqual([]); // A has not frozen it
    await a.processor.apply([view(A, 2, 'carol', T0 + 3 * WINDOW_MS)]);
    expect(results(objects)).toEqual([]); // B has not seen A's watermark yet
    const closing = await b.processor.apply([view(B, 3, 'dave', T0 + 3 * WINDOW_MS + 1)]);
    expect(closing.windowsEmitted).toBe(1);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '2' })]);
  });

  test('when the tick freezes an idle shard while a batch of it is in flight, the batch is applied again and its records for the closed window are late, once', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    let now = T0;
    const options = { tables, objects, now: () => now, pipelineOptions: { idleTimeoutMs: 30_000 } };
    await setup(options).processor.apply([view(A, 1, 'alice', T0)]);
    await setup(options).processor.apply([view(B, 1, 'bob', T0 + 3 * WINDOW_MS)]);
    now = T0 + 40_000; // A idle
    const store = new InMemoryStateStore({ tables });
    const commit = store.commit.bind(store);
    let raced = false;
    store.commit = async (c) => {
      if (!raced) {
        raced = true;
        await setup(options).processor.tick();
      }
      return commit(c);
    };
    const batch = [view(A, 2, 'alice', T0 + 10, 7), view(A, 3, 'bob', T0 + 3 * WINDOW_MS + 5)];
    const result = await setup({ ...options, store }).processor.apply(batch);
    expect(raced).toBe(true);
    expect(result).toMatchObject({ late: 1, conflicts: 1 });
    expect(lines(objects, 'late/')).toEqual([
      expect.objectContaining({ key: 'alice', shardId: A, sequenceNumber: '2' }),
    ]);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '1', total_ms: 1 })]);
    const keys = [...objects.objects.keys()].sort();
    await setup(options).processor.apply(batch);
    expect([...objects.objects.keys()].sort()).toEqual(keys);
  });

  test('when a batch crashes at any store or object call while a tick closes its window, redelivery leaves each record once in results or late/', async () => {
    const batch = [
      view(B, 2, 'alice', T0 + 10, 7),
      view(B, 3, 'bob', T0 + 3 * WINDOW_MS + 5),
      view(B, 4, 'dave', T0 + 20, 2),
    ];
    let crashes = 0;
    for (let crashAt = 0; crashAt < 14; crashAt++) {
      for (const after of [false, true]) {
        for (const bisect of [false, true]) {
          const tables = new InMemoryStateTables();
          const objects = new InMemoryObjectStore();
          let now = T0;
          const options = { tables, objects, now: () => now, pipelineOptions: { idleTimeoutMs: 30_000 } };
          await setup(options).processor.apply([
            view(A, 1, 'alice', T0),
            view(A, 2, 'carol', T0 + 3 * WINDOW_MS),
          ]);
          await setup(options).processor.apply([view(B, 1, 'bob', T0)]);
          now = T0 + 40_000;
          let calls = 0;
          let ticked = false;
          const crashing = <T extends object>(target: T, methods: readonly (keyof T)[]): T => {
            for (const method of methods) {
              const original = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
              (target as Record<keyof T, unknown>)[method] = async (...args: unknown[]) => {
                const call = calls++;
                if (call === crashAt && !after) throw new Error(`crash before call ${call}`);
                if (method === 'commit' && !ticked) {
                  // Shard A is idle: the tick freezes B's view of alice's window under the in-flight batch.
                  ticked = true;
                  now = T0 + 80_000;
                  await setup(options).processor.tick();
                }
                const value = await original(...args);
                if (call === crashAt && after) throw new Error(`crash after call ${call}`);
                return value;
              };
            }
            return target;
          };
          const bStore = crashing(new InMemoryStateStore({ tables }), [
            'readProgress',
            'commit',
            'raisePipeline',
            'readSegments',
          ]);
          const bObjects = crashing(
            {
              putObject: objects.putObject.bind(objects),
              listKeys: objects.listKeys.bind(objects),
              deleteObject: objects.deleteObject.bind(objects),
            },
            ['putObject', 'listKeys', 'deleteObject'],
          );
          const crashed = await setup({ ...options, store: bStore, objects: bObjects })
            .processor.apply(batch)
            .then(
              () => false,
              () => true,
            );
          if (crashed) crashes += 1;
          const retry = setup(options).processor;
          if (bisect) {
            await retry.apply(batch.slice(0, 1));
            await retry.apply(batch.slice(1));
          } else {
            await retry.apply(batch);
          }
          await setup(options).processor.tick(Number.POSITIVE_INFINITY);
          const late = lines(objects, 'late/').map((r) => `${String(r.shardId)}/${String(r.sequenceNumber)}`);
          const label = `crash ${after ? 'after' : 'before'} call ${crashAt}, ${bisect ? 'bisected' : 'whole'} redelivery`;
          expect({
            label,
            lateUnique: new Set(late).size === late.length,
            accounted: counted(objects) + late.length,
          }).toEqual({ label, lateUnique: true, accounted: 6 });
          const clean = lines(objects, 'clean/').map(
            (r) => `${String(r.shardId)}/${String(r.sequenceNumber)}`,
          );
          expect({ label, clean: new Set(clean).size, cleanUnique: clean.length }).toEqual({
            label,
            clean: 6,
            cleanUnique: 6,
          });
        }
      }
    }
    // 2 × 2 variants of each call the batch makes up to its commit (no listing: sweeps run behind the log).
    expect(crashes).toBeGreaterThan(12);
  });

  test('when a racing copy of a batch stalls before its commit while the other copy commits, each record counts once', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const slow = new InMemoryStateStore({ tables });
    const commit = slow.commit.bind(slow);
    let release: () => void = () => undefined;
    let reached: () => void = () => undefined;
    const atCommit = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    slow.commit = async (c) => {
      reached();
      await gate;
      return commit(c);
    };
    const batch = views(1, 30);
    const copy1 = setup({ tables, objects, store: slow }).processor.apply(batch);
    await atCommit;
    const copy2 = await setup({ tables, objects }).processor.apply(batch);
    release();
    const first = await copy1;
    expect(copy2.duplicates + first.duplicates).toBe(30);
    await setup({ tables, objects }).processor.tick(Number.POSITIVE_INFINITY);
    expect(counted(objects)).toBe(30);
    expect(lines(objects, 'clean/')).toHaveLength(30);
  });

  test('when a crashed batch is redelivered in bisected halves, the clean archive holds every record exactly once', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const batch = views(1, 40);
    await expect(
      setup({ tables, objects, store: storeCrashingBeforeCommit(tables) }).processor.apply(batch),
    ).rejects.toThrow(BatchApplyError);
    const { processor } = setup({ tables, objects });
    await processor.apply(batch.slice(0, 20));
    await processor.apply(batch.slice(20));
    await processor.tick(Number.POSITIVE_INFINITY);
    const archived = lines(objects, 'clean/').map((r) => r.sequenceNumber);
    expect(archived).toHaveLength(40);
    expect(new Set(archived).size).toBe(40);
    expect(counted(objects)).toBe(40);
  });

  /** A shard whose first attempt at `batch` crashed after writing its side outputs, on a settable clock. */
  async function afterCrashedAttempt(batch: readonly RawRecord[]) {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const clock = { now: T0 };
    const options = { tables, objects, now: () => clock.now };
    await expect(
      setup({ ...options, store: storeCrashingBeforeCommit(tables) }).processor.apply(batch),
    ).rejects.toThrow(BatchApplyError);
    return { tables, objects, clock, options };
  }

  test('when a crashed attempt left side outputs under committed records, the first commit after the sweep lag removes them, and none before', async () => {
    const batch = views(1, 40);
    const { objects, clock, options } = await afterCrashedAttempt(batch);
    // Redelivered in halves: the crashed attempt's objects (records 1–40) are no commit's.
    await setup(options).processor.apply(batch.slice(0, 20));
    await setup(options).processor.apply(batch.slice(20));
    const cleanLines = (): number => lines(objects, 'clean/').length;
    expect(cleanLines()).toBe(80);
    clock.now = T0 + DEFAULT_SWEEP_LAG_MS - 1;
    await setup(options).processor.apply(views(41, 5));
    expect(cleanLines()).toBe(85);
    clock.now = T0 + DEFAULT_SWEEP_LAG_MS;
    const before = objects.requests;
    await setup(options).processor.apply(views(46, 5));
    const archived = lines(objects, 'clean/').map((r) => r.sequenceNumber);
    expect(archived).toHaveLength(50);
    expect(new Set(archived).size).toBe(50);
    // One listing per side output and partition (an hour either side of the swept arrivals at most), then the
    // deletion and this batch's own object.
    expect(objects.requests - before).toBeLessThanOrEqual(3 * 3 + 1 + 1);
  });

  test('when a shard stops receiving records, the tick sweeps its side outputs once its last commit is older than the lag, sparing an attempt in flight after it', async () => {
    const batch = views(1, 30);
    const { tables, objects, clock, options } = await afterCrashedAttempt(batch);
    await setup(options).processor.apply(batch.slice(0, 20));
    // An attempt at the next records has written its objects and has not committed yet.
    const slow = new InMemoryStateStore({ tables });
    const commit = slow.commit.bind(slow);
    let release!: () => void;
    let reached!: () => void;
    const atCommit = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    slow.commit = async (c) => {
      reached();
      await gate;
      return commit(c);
    };
    const inFlight = setup({ ...options, store: slow }).processor.apply(batch.slice(20));
    await atCommit;
    const sequences = (): string[] => lines(objects, 'clean/').map((r) => String(r.sequenceNumber));
    expect(sequences()).toHaveLength(30 + 20 + 10);
    clock.now = T0 + DEFAULT_SWEEP_LAG_MS - 1;
    await setup(options).processor.tick();
    expect(sequences()).toHaveLength(60);
    clock.now = T0 + DEFAULT_SWEEP_LAG_MS;
    await setup(options).processor.tick();
    // The crashed attempt's copy of records 1–30 is gone; the one in flight (21–30) is not.
    expect(sequences()).toHaveLength(30);
    expect(new Set(sequences()).size).toBe(30);
    release();
    await inFlight;
    await setup(options).processor.tick(Number.POSITIVE_INFINITY);
    expect(new Set(sequences()).size).toBe(30);
    expect(sequences()).toHaveLength(30);
    expect(counted(objects)).toBe(30);
  });

  test('when a stale instance writes its side outputs after another committed the same records and cleaned up, it removes them once it loses', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const batch = views(1, 40);
    // The stale instance reads progress, then stalls before its first object write until the other is done.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stalled: ObjectStore = {
      putObject: async (key, body, type) => {
        await gate;
        return objects.putObject(key, body, type);
      },
      listKeys: (prefix, startAfter) => objects.listKeys(prefix, startAfter),
      deleteObject: (key) => objects.deleteObject(key),
    };
    const stale = setup({ tables, objects: stalled }).processor.apply(batch.slice(0, 30));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The other commits the records in two batches: the shard's last commit no longer starts where the stale
    // attempt's objects do, so cleaning up after the last commit does not reach them.
    const other = setup({ tables, objects }).processor;
    await other.apply(batch.slice(0, 20));
    await other.apply(batch.slice(20));
    release();
    await expect(stale).resolves.toMatchObject({ duplicates: 30 });
    const archived = lines(objects, 'clean/').map((r) => r.sequenceNumber);
    expect(archived).toHaveLength(40);
    expect(new Set(archived).size).toBe(40);
  });

  test('when four shards write the same keys and windows at once, no commit conflicts and every record counts once', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const shards = [0, 1, 2, 3].map((i) => `shardId-00000000000${i}`);
    const instances = shards.map(() => setup({ tables, objects }));
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        instances.map((instance, i) => instance.processor.apply(views(round * 100 + 1, 100, shards[i], 7))),
      );
    }
    await instances[0]!.processor.tick(Number.POSITIVE_INFINITY);
    expect(instances.reduce((n, i) => n + i.store.stats.conflicts, 0)).toBe(0);
    expect(counted(objects)).toBe(1_200);
  });

  test('when a shard commits for the first time after a window was emitted, its records for that window are late', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    await setup({ tables, objects }).processor.apply([
      view(A, 1, 'alice', T0),
      view(A, 2, 'bob', T0 + 3 * WINDOW_MS),
    ]);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice' })]);
    const newcomer = await setup({ tables, objects }).processor.apply([view(B, 1, 'alice', T0 + 30)]);
    expect(newcomer.late).toBe(1);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '1' })]);
  });

  test('when a batch does not fit one commit, it commits in parts; a record that alone does not fit is dead-lettered STATE_LIMIT', async () => {
    // Each record's state carries 512 KB of random bytes: 12 records cannot share one 4 MB transaction.
    const base = pageViewsPipeline();
    const bloated: StatefulPipeline = {
      ...base,
      combine: (prepared, fenceOf, seen, stats) =>
        base.combine(prepared, fenceOf, seen, stats).map((p) => ({
          ...p,
          state: {
            ...p.state,
            pad: randomBytes(p.records * (p.key === 'huge' ? 5_000_000 : 512 * 1024)).toString('base64'),
          },
        })),
      mergeState: (a, b) => ({ ...base.mergeState(a, b), pad: '' }),
    };
    const { processor, store, objects } = setup({ pipeline: bloated });
    const batch = Array.from({ length: 12 }, (_, i) => view(A, i + 1, `u${i}`, T0 + i));
    const result = await processor.apply([...batch, view(A, 13, 'huge', T0 + 20)]);
    expect(result).toMatchObject({ recordsIn: 13, rejected: 1, windowsWritten: 12 });
    const progress = (await store.readProgress('page-views')).shards[0]!;
    expect(progress.commits).toBeGreaterThan(1);
    expect(progress.lastSequence).toMatch(/0+13$/);
    expect(lines(objects, 'rejected/')).toEqual([
      expect.objectContaining({
        sequenceNumber: '13',
        reason: 'STATE_LIMIT',
        detail: expect.stringContaining('the segment limit of one commit'),
      }),
    ]);
    await processor.tick(Number.POSITIVE_INFINITY);
    expect(counted(objects)).toBe(12);
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
    expect(
      () =>
        new BatchProcessor(
          { pipeline, store, objects, encoder: jsonEncoder, clock: { now: () => 0 } },
          { concurrency: 0 },
        ),
    ).toThrow('concurrency must be an integer between 1 and 100 inclusive (given 0)');
    expect(
      () =>
        new BatchProcessor(
          { pipeline, store, objects, encoder: jsonEncoder, clock: { now: () => 0 } },
          { maxDedupeIds: 0 },
        ),
    ).toThrow('maxDedupeIds must be an integer between 1 and 100000000 inclusive (given 0)');
  });

  test('when two instances close the same windows at once, each window object is written with the same bytes and the mark moves past them', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const a = setup({ tables, objects });
    const b = setup({ tables, objects });
    const bodies = new Map<string, string[]>();
    const put = objects.putObject.bind(objects);
    objects.putObject = async (key, body, type) => {
      if (key.startsWith('results/'))
        bodies.set(key, [...(bodies.get(key) ?? []), Buffer.from(body).toString('base64')]);
      await put(key, body, type);
    };
    await a.processor.apply(views(1, 30, A, 6));
    await b.processor.apply([view(B, 1, 'other', T0 + 10 * WINDOW_MS)]);
    await a.processor.apply([view(A, 100, 'late', T0 + 10 * WINDOW_MS)]);
    await Promise.all([
      a.processor.tick(Number.POSITIVE_INFINITY),
      b.processor.tick(Number.POSITIVE_INFINITY),
    ]);
    expect(counted(objects)).toBe(32);
    for (const [key, written] of bodies)
      expect({ key, distinct: new Set(written).size }).toEqual({ key, distinct: 1 });
    expect((await a.store.readProgress('page-views')).pipeline?.emittedThrough).toBe(T0 + 11 * WINDOW_MS);
  });

  test("when one of the tick's writes fails, the tick throws only once its other writes have settled", async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const options = { tables, objects, pipelineOptions: { idleTimeoutMs: 30_000 } };
    await setup(options).processor.apply([view(A, 1, 'alice', T0)]);
    await setup(options).processor.apply([view(B, 1, 'bob', T0 + 3 * WINDOW_MS)]);
    const store = new InMemoryStateStore({ tables });
    const commit = store.commit.bind(store);
    let inFlight = 0;
    store.commit = async (c) => {
      if (c.progress.shardId === A) throw new Error('injected: crash before commit');
      inFlight += 1;
      try {
        // A slow request: the write lands a few event-loop turns later.
        for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
        return await commit(c);
      } finally {
        inFlight -= 1;
      }
    };
    // Both shards are idle: the tick raises both close marks at once.
    const tick = setup({ ...options, store, now: () => T0 + 60_000 }).processor.tick();
    let inFlightWhenThrown: number | undefined;
    await tick.catch(() => (inFlightWhenThrown = inFlight));
    expect(inFlightWhenThrown).toBe(0);
    expect((await store.readProgress('page-views')).shards.find((s) => s.shardId === B)?.frozen).toBe(
      T0 + 3 * WINDOW_MS - 5_000,
    );
  });

  test("when another writer moves a shard's progress while the end-of-input tick raises its close mark, the tick raises it again and every window is emitted", async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    await setup({ tables, objects }).processor.apply(views(1, 30, A, 6));
    await setup({ tables, objects }).processor.apply(views(1, 30, B, 6, T0 + 2 * WINDOW_MS));
    const store = new InMemoryStateStore({ tables });
    const rival = new InMemoryStateStore({ tables });
    const commit = store.commit.bind(store);
    let raced = false;
    store.commit = async (c) => {
      if (!raced && c.progress.shardId === B && c.progress.frozen === Number.POSITIVE_INFINITY) {
        // A write still in flight from an earlier tick (or a straggling commit of the shard) lands first.
        raced = true;
        const stored = (await rival.readProgress('page-views')).shards.find((s) => s.shardId === B)!;
        await rival.commit({
          progress: { ...stored, frozen: T0, version: stored.version + 1 },
          expectedVersion: stored.version,
        });
      }
      return commit(c);
    };
    await setup({ tables, objects, store }).processor.tick(Number.POSITIVE_INFINITY);
    expect(raced).toBe(true);
    expect(counted(objects)).toBe(60);
  });

  test('when a provisioned shard has not reported yet, windows wait until the tick registers it and it goes idle', async () => {
    let now = T0;
    const { processor, objects } = setup({
      now: () => now,
      pipelineOptions: { shards: 2, idleTimeoutMs: 30_000 },
    });
    await processor.apply([view(A, 1, 'alice', T0), view(A, 2, 'bob', T0 + 5 * WINDOW_MS)]);
    expect(results(objects)).toEqual([]);
    await processor.tick(undefined, { shardIds: [A, B] });
    expect(results(objects)).toEqual([]);
    now += 31_000;
    const closed = await processor.tick(undefined, { shardIds: [A, B] });
    expect(closed.windowsEmitted).toBe(1);
    expect(results(objects)).toEqual([expect.objectContaining({ user: 'alice', views: '1' })]);
  });

  test('when instances disagree on the clock, results stay exact: a fast clock can only make its own shard judge records late', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const pipelineOptions = { idleTimeoutMs: 30_000 };
    const fast = setup({ tables, objects, now: () => T0 + 3_600_000, pipelineOptions });
    const slow = setup({ tables, objects, now: () => T0, pipelineOptions });
    await slow.processor.apply([view(A, 1, 'alice', T0), view(A, 2, 'alice', T0 + 2 * WINDOW_MS)]);
    await fast.processor.apply([view(B, 1, 'bob', T0 + 5), view(B, 2, 'bob', T0 + 3 * WINDOW_MS)]);
    await slow.processor.apply([view(A, 3, 'alice', T0 + 7)]);
    await fast.processor.apply([view(B, 3, 'bob', T0 + 9)]);
    await setup({ tables, objects }).processor.tick(Number.POSITIVE_INFINITY);
    expect(counted(objects) + lines(objects, 'late/').length).toBe(6);
  });
});
