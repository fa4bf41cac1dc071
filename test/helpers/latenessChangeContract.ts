/**
 * The lateness-change contract of the apply path, run over every state store (the in-memory one in the unit
 * project, DynamoDB Local in the integration one). `allowedLateness` is not part of the state shape, so a
 * redeploy that changes it is compatible; what was emitted under the old lateness must stay emitted, and what
 * was open must still be emitted:
 *
 * - an increase never opens an emitted window (session) again: a record for it after the switch is late
 *   (`late/`), and its result object is never written again;
 * - a decrease closes windows (sessions) earlier, and every one still open at the switch is emitted once.
 */
import { z } from 'zod';
import { count, pipeline, session, sliding, sum, tumbling } from '../../functions/core/dsl';
import type { Duration } from '../../functions/core/duration';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import type { StatefulPipeline, StateStore } from '../../functions/core/state/types';
import type { WindowSpec } from '../../functions/core/types';
import { rawRecord } from './records';
import { jsonEncoder } from './jsonEncoder';

const T0 = Date.UTC(2030, 0, 1);
const SECOND = 1_000;
const MINUTE = 60_000;
const SHARD = 'shardId-000000000000';
const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });

let counter = 0;
const uniqueName = (): string => `late-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;

/** The same pipeline (name, shape) under another allowed lateness. */
function views(name: string, window: WindowSpec, allowedLateness: Duration): StatefulPipeline {
  return pipeline(name)
    .source({ stream: 'views', shards: 1 })
    .clean({ schema: View, eventTime: (v) => v.ts })
    .keyBy((v) => v.user, 'user')
    .window(window, { allowedLateness, maxOutOfOrderness: '0s', idleTimeout: '1h' })
    .aggregate({ n: count(), total: sum((v) => v.ms) })
    .sink({ table: 'views_by_user' }) as unknown as StatefulPipeline;
}

/** Record `seq` of `user` at event (and arrival) time `ts`; `ms = seq`. */
const view = (seq: number, user: string, ts: number) =>
  rawRecord({ user, ms: seq, ts }, { shardId: SHARD, sequenceNumber: seq, approximateArrivalTimestamp: ts });

function processor(store: StateStore, objects: InMemoryObjectStore, def: StatefulPipeline): BatchProcessor {
  return new BatchProcessor({
    pipeline: def,
    store,
    objects,
    encoder: jsonEncoder,
    clock: { now: () => T0 + 20 * MINUTE },
  });
}

type Row = Record<string, unknown>;

/** Every result object, by key, as it is stored now. */
function results(objects: InMemoryObjectStore): Map<string, Row[]> {
  return new Map(
    [...objects.objects.entries()]
      .filter(([key]) => key.startsWith('results/'))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, o]) => [key, JSON.parse(Buffer.from(o.body).toString('utf8')) as Row[]]),
  );
}

/** Every result row, sorted by window then user. */
function rows(objects: InMemoryObjectStore): Row[] {
  return [...results(objects).values()]
    .flat()
    .map(({ user, window_start, window_end, n, total }) => ({ user, window_start, window_end, n, total }))
    .sort(
      (a, b) =>
        (a.window_start as number) - (b.window_start as number) ||
        String(a.user).localeCompare(String(b.user)),
    );
}

/** The `ms` (sequence) of every record in `late/`, sorted. */
function lateRecords(objects: InMemoryObjectStore): number[] {
  return [...objects.objects.entries()]
    .filter(([key]) => key.startsWith('late/'))
    .flatMap(([, o]) =>
      Buffer.from(o.body)
        .toString('utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => (JSON.parse(line) as { value: { ms: number } }).value.ms),
    )
    .sort((a, b) => a - b);
}

export function describeLatenessChangeContract(name: string, factory: () => Promise<StateStore>): void {
  describe(`lateness change contract: ${name}`, () => {
    test('when the allowed lateness is increased after a window was emitted, records for it are late and its object is never written again', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      const window = tumbling('1m');
      const before = processor(store, objects, views(pipe, window, '0s'));
      await before.apply([view(1, 'a', T0 + 1), view(2, 'b', T0 + 2), view(3, 'a', T0 + 3)]);
      // The watermark passes [T0, T0 + 1m) + 0s: emitted.
      expect((await before.apply([view(4, 'a', T0 + MINUTE + 4)])).windowsEmitted).toBe(1);
      const emitted = results(objects);
      expect(rows(objects)).toEqual([
        { user: 'a', window_start: T0, window_end: T0 + MINUTE, n: 2, total: 4 },
        { user: 'b', window_start: T0, window_end: T0 + MINUTE, n: 1, total: 2 },
      ]);

      // Redeploy with 10 minutes: [T0, T0 + 1m) would close at T0 + 11m under it, above the close mark.
      const after = processor(store, objects, views(pipe, window, '10m'));
      const batch = await after.apply([
        view(5, 'a', T0 + 5),
        view(6, 'c', T0 + 6),
        view(7, 'a', T0 + MINUTE + 7),
      ]);
      expect(batch.late).toBe(2);
      await after.tick(T0 + 30 * MINUTE);
      await after.tick(Infinity);

      const [first] = [...emitted.keys()];
      expect(results(objects).get(first!)).toEqual(emitted.get(first!));
      expect(lateRecords(objects)).toEqual([5, 6]);
      expect(rows(objects)).toEqual([
        { user: 'a', window_start: T0, window_end: T0 + MINUTE, n: 2, total: 4 },
        { user: 'b', window_start: T0, window_end: T0 + MINUTE, n: 1, total: 2 },
        { user: 'a', window_start: T0 + MINUTE, window_end: T0 + 2 * MINUTE, n: 2, total: 11 },
      ]);
    });

    test('when the allowed lateness is increased, a record of sliding windows is late for the emitted one and applied to the open one', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      const window = sliding('2m', '1m');
      const before = processor(store, objects, views(pipe, window, '0s'));
      await before.apply([view(1, 'a', T0 + 1)]);
      // [T0 − 1m, T0 + 1m) and [T0, T0 + 2m) close.
      expect((await before.apply([view(2, 'b', T0 + 2 * MINUTE + 2)])).windowsEmitted).toBe(2);

      const after = processor(store, objects, views(pipe, window, '10m'));
      // In [T0, T0 + 2m) (emitted: late) and [T0 + 1m, T0 + 3m) (open).
      expect((await after.apply([view(3, 'a', T0 + MINUTE + 3)])).late).toBe(1);
      await after.tick(Infinity);

      expect(lateRecords(objects)).toEqual([3]);
      expect(rows(objects)).toEqual([
        { user: 'a', window_start: T0 - MINUTE, window_end: T0 + MINUTE, n: 1, total: 1 },
        { user: 'a', window_start: T0, window_end: T0 + 2 * MINUTE, n: 1, total: 1 },
        { user: 'a', window_start: T0 + MINUTE, window_end: T0 + 3 * MINUTE, n: 1, total: 3 },
        { user: 'b', window_start: T0 + MINUTE, window_end: T0 + 3 * MINUTE, n: 1, total: 2 },
        { user: 'b', window_start: T0 + 2 * MINUTE, window_end: T0 + 4 * MINUTE, n: 1, total: 2 },
      ]);
    });

    test('when the allowed lateness is decreased, windows still open at the switch are emitted once, earlier', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      const window = tumbling('1m');
      const before = processor(store, objects, views(pipe, window, '10m'));
      await before.apply([
        view(1, 'a', T0 + 1),
        view(2, 'a', T0 + MINUTE + 2),
        view(3, 'b', T0 + 2 * MINUTE + 3),
      ]);
      // The watermark reaches T0 + 11m + 4: [T0, T0 + 1m) closes (T0 + 11m); the next two are still open.
      expect((await before.apply([view(4, 'c', T0 + 11 * MINUTE + 4)])).windowsEmitted).toBe(1);

      // Redeploy with no lateness: the two open windows (and the one of record 4) are due at once.
      const after = processor(store, objects, views(pipe, window, '0s'));
      const batch = await after.apply([view(5, 'a', T0 + MINUTE + 5), view(6, 'd', T0 + 11 * MINUTE + 6)]);
      expect(batch.late).toBe(1);
      await after.tick(Infinity);

      expect(lateRecords(objects)).toEqual([5]);
      expect(rows(objects)).toEqual([
        { user: 'a', window_start: T0, window_end: T0 + MINUTE, n: 1, total: 1 },
        { user: 'a', window_start: T0 + MINUTE, window_end: T0 + 2 * MINUTE, n: 1, total: 2 },
        { user: 'b', window_start: T0 + 2 * MINUTE, window_end: T0 + 3 * MINUTE, n: 1, total: 3 },
        { user: 'c', window_start: T0 + 11 * MINUTE, window_end: T0 + 12 * MINUTE, n: 1, total: 4 },
        { user: 'd', window_start: T0 + 11 * MINUTE, window_end: T0 + 12 * MINUTE, n: 1, total: 6 },
      ]);
    });

    test('when the allowed lateness is increased after a session was emitted, a record touching it is late and it is emitted once', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      const window = session('1m');
      const before = processor(store, objects, views(pipe, window, '0s'));
      await before.apply([view(1, 'a', T0 + 1), view(2, 'a', T0 + 2)]);
      // a's session [T0 + 1, T0 + 1m + 2) closes at its end + gap: T0 + 2m + 2.
      expect((await before.apply([view(3, 'b', T0 + 3 * MINUTE)])).windowsEmitted).toBe(1);

      // Redeploy with 10 minutes: a record at T0 + 1m + 1 touches a's emitted session.
      const after = processor(store, objects, views(pipe, window, '10m'));
      const batch = await after.apply([view(4, 'a', T0 + MINUTE + 1), view(5, 'b', T0 + 3 * MINUTE + 5)]);
      expect(batch.late).toBe(1);
      await after.tick(Infinity);

      expect(lateRecords(objects)).toEqual([4]);
      expect(rows(objects)).toEqual([
        { user: 'a', window_start: T0 + 1, window_end: T0 + MINUTE + 2, n: 2, total: 3 },
        { user: 'b', window_start: T0 + 3 * MINUTE, window_end: T0 + 4 * MINUTE + 5, n: 2, total: 8 },
      ]);
    });

    test('when the allowed lateness is decreased, sessions still open at the switch are emitted once, earlier', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      const window = session('1m');
      const before = processor(store, objects, views(pipe, window, '10m'));
      // b's session [T0 − 10m, T0 − 9m) closes at T0 + 2m (end + gap + 10m); a's at T0 + 12m + 2.
      await before.apply([view(1, 'b', T0 - 10 * MINUTE), view(2, 'a', T0 + 1), view(3, 'a', T0 + 2)]);
      expect((await before.apply([view(4, 'c', T0 + 5 * MINUTE)])).windowsEmitted).toBe(1);

      // Redeploy with no lateness: a's session closes at T0 + 2m + 2, below what was emitted through.
      const after = processor(store, objects, views(pipe, window, '0s'));
      await after.apply([view(5, 'c', T0 + 5 * MINUTE + 30 * SECOND)]);
      await after.tick(Infinity);

      expect(lateRecords(objects)).toEqual([]);
      expect(rows(objects)).toEqual([
        { user: 'b', window_start: T0 - 10 * MINUTE, window_end: T0 - 9 * MINUTE, n: 1, total: 1 },
        { user: 'a', window_start: T0 + 1, window_end: T0 + MINUTE + 2, n: 2, total: 5 },
        {
          user: 'c',
          window_start: T0 + 5 * MINUTE,
          window_end: T0 + 6 * MINUTE + 30 * SECOND,
          n: 2,
          total: 9,
        },
      ]);
    });
  });
}
