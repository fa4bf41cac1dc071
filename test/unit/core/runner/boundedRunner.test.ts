import fc from 'fast-check';
import { z } from 'zod';
import {
  avg,
  count,
  distinctCount,
  max,
  min,
  pipeline,
  session,
  sliding,
  sum,
  tumbling,
} from '../../../../functions/core/dsl';
import { runBounded } from '../../../../functions/core/runner/boundedRunner';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { ResultRow, WindowSpec } from '../../../../functions/core/types';
import { slidingWindows } from '../../../../functions/core/windows/slidingWindow';
import { tumblingWindowStart } from '../../../../functions/core/windows/tumblingWindow';
import { rawRecord } from '../../../helpers/records';

const Ev = z.object({ id: z.string(), k: z.string(), v: z.number().int(), u: z.string(), t: z.number() });
type Ev = z.infer<typeof Ev>;
const T0 = Date.UTC(2026, 0, 1);
const MAX_OOO = 5_000;

const build = (window: WindowSpec, lateness = 2_000) =>
  pipeline('prop')
    .source({ stream: 's' })
    .clean({ schema: Ev, eventTime: (e) => e.t, dedupeBy: (e) => e.id })
    .keyBy((e) => e.k)
    .window(window, { allowedLateness: lateness, maxOutOfOrderness: MAX_OOO })
    .aggregate({
      n: count(),
      big: count((e) => e.v > 50),
      total: sum((e) => e.v),
      lo: min((e) => e.v),
      hi: max((e) => e.v),
      mean: avg((e) => e.v),
      users: distinctCount((e) => e.u),
    })
    .sink({ table: 't' });

/** The naive reference: group every event by key and window directly and compute exact aggregates. */
function reference(events: readonly Ev[], window: WindowSpec): ResultRow[] {
  const groups = new Map<string, { k: string; start: number; end: number; evs: Ev[] }>();
  const add = (k: string, start: number, end: number, e: Ev): void => {
    const id = `${k}|${start}|${end}`;
    const g = groups.get(id) ?? { k, start, end, evs: [] };
    g.evs.push(e);
    groups.set(id, g);
  };
  if (window.kind === 'session') {
    const byKey = new Map<string, Ev[]>();
    for (const e of events) byKey.set(e.k, [...(byKey.get(e.k) ?? []), e]);
    for (const [k, evs] of byKey) {
      const sorted = [...evs].sort((a, b) => a.t - b.t);
      let cur: Ev[] = [];
      let end = -Infinity;
      const flush = (): void => {
        if (cur.length > 0) for (const e of cur) add(k, cur[0]!.t, end, e);
      };
      for (const e of sorted) {
        if (e.t > end) {
          flush();
          cur = [];
        }
        cur.push(e);
        end = Math.max(end, e.t + window.gapMs);
      }
      flush();
    }
  } else {
    for (const e of events) {
      const ws =
        window.kind === 'tumbling'
          ? [
              {
                start: tumblingWindowStart(e.t, window.sizeMs),
                end: tumblingWindowStart(e.t, window.sizeMs) + window.sizeMs,
              },
            ]
          : slidingWindows(e.t, window.sizeMs, window.slideMs);
      for (const w of ws) add(e.k, w.start, w.end, e);
    }
  }
  const rows = [...groups.values()].map((g) => {
    const vs = g.evs.map((e) => e.v);
    return {
      key: g.k,
      window_start: g.start,
      window_end: g.end,
      n: vs.length,
      big: vs.filter((v) => v > 50).length,
      total: vs.reduce((a, b) => a + b, 0),
      lo: Math.min(...vs),
      hi: Math.max(...vs),
      mean: vs.reduce((a, b) => a + b, 0) / vs.length,
      evolved_columns: null,
      users: new Set(g.evs.map((e) => e.u)).size,
    };
  });
  return sortRows(rows);
}

function sortRows(rows: ResultRow[]): ResultRow[] {
  return [...rows].sort(
    (a, b) =>
      (a['window_start'] as number) - (b['window_start'] as number) ||
      (a['window_end'] as number) - (b['window_end'] as number) ||
      String(a['key']).localeCompare(String(b['key'])),
  );
}

const eventsArb = fc
  .array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c'),
      v: fc.integer({ min: 0, max: 100 }),
      u: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'),
      dt: fc.integer({ min: 0, max: 180_000 }),
      jitter: fc.integer({ min: 0, max: MAX_OOO }),
      shard: fc.integer({ min: 0, max: 1 }),
      dup: fc.boolean(),
    }),
    { minLength: 20, maxLength: 150, size: 'large' },
  )
  .map((xs) => xs.map((x, i) => ({ ...x, e: { id: `id-${i}`, k: x.k, v: x.v, u: x.u, t: T0 + x.dt } })));

const windows: [string, WindowSpec][] = [
  ['tumbling', tumbling('1m')],
  ['sliding', sliding('1m', '20s')],
  ['session', session('15s')],
];

describe('runBounded', () => {
  it.each(windows)(
    'when %s events arrive on two shards in random batches, out of order within maxOutOfOrderness and with duplicates, the rows equal the naive reference',
    async (_name, window) => {
      const p = build(window);
      await fc.assert(
        fc.asyncProperty(
          eventsArb,
          fc.integer({ min: 1, max: 25 }),
          fc.array(fc.boolean(), { maxLength: 300 }),
          async (xs, batchSize, interleave) => {
            // Per shard: delivery order sorted by t + jitter, so a record arrives at most MAX_OOO after a later one.
            const perShard = [0, 1].map((s) =>
              xs
                .filter((x) => x.shard === s)
                .sort((a, b) => a.e.t + a.jitter - (b.e.t + b.jitter))
                .flatMap((x) => (x.dup ? [x, x] : [x])),
            );
            const delivered: ReturnType<typeof rawRecord>[] = [];
            const idx = [0, 0];
            const seq = [0, 0];
            let step = 0;
            while (idx[0]! < perShard[0]!.length || idx[1]! < perShard[1]!.length) {
              let s = interleave[step++ % Math.max(1, interleave.length)] === true ? 1 : 0;
              if (idx[s]! >= perShard[s]!.length) s = 1 - s;
              const x = perShard[s]![idx[s]!++]!;
              delivered.push(
                rawRecord(x.e, {
                  shardId: `shard-${s}`,
                  sequenceNumber: ++seq[s]!,
                  approximateArrivalTimestamp: T0 + 3_600_000,
                }),
              );
            }
            const result = await runBounded(p, delivered, { batchSize, shards: ['shard-0', 'shard-1'] });
            expect(result.rejected).toEqual([]);
            expect(result.late).toEqual([]);
            expect(result.duplicates).toBe(xs.filter((x) => x.dup).length);
            expect(sortRows(result.rows)).toEqual(
              reference(
                xs.map((x) => x.e),
                window,
              ),
            );
          },
        ),
        { numRuns: 60 },
      );
    },
    // Generous: the machine running the suite may be shared; a normal run takes 1–2 s.
    30_000,
  );

  it('when a producer duplicate lands on another shard, it counts twice, as it does through the stack (dedupe ids are per shard)', async () => {
    const p = build(tumbling('1m'));
    const event = { id: 'same', k: 'a', v: 1, u: 'x', t: T0 };
    const arrival = { approximateArrivalTimestamp: T0 + 1_000 };
    const records = [
      rawRecord(event, { shardId: 'shard-0', sequenceNumber: 1, ...arrival }),
      rawRecord(event, { shardId: 'shard-0', sequenceNumber: 2, ...arrival }),
      rawRecord(event, { shardId: 'shard-1', sequenceNumber: 1, ...arrival }),
    ];
    const bounded = await runBounded(p, records, { batchSize: 10 });
    expect(bounded.duplicates).toBe(1);
    expect(bounded.rows).toEqual([expect.objectContaining({ n: 2 })]);
    // The Lambda handler's path over the same records, as the stack runs it.
    const objects = new InMemoryObjectStore();
    const processor = new BatchProcessor({
      pipeline: p,
      store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
      objects,
      encoder: {
        contentType: 'application/json',
        extension: 'json',
        encode: (_c, rows) =>
          new TextEncoder().encode(
            JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)),
          ),
      },
      clock: { now: () => T0 + 1_000 },
    });
    await processor.apply(records);
    await processor.tick(Number.POSITIVE_INFINITY);
    const stack = [...objects.objects.keys()]
      .filter((key) => key.startsWith('results/'))
      .flatMap((key) => JSON.parse(objects.text(key)!) as Record<string, unknown>[]);
    expect(stack).toEqual([expect.objectContaining({ n: bounded.rows[0]!['n'] })]);
  });

  it("when a shard's records are not in increasing sequence order, it refuses the input instead of dropping the repeats", async () => {
    const p = build(tumbling('1m'));
    const event = { id: '1', k: 'a', v: 1, u: 'x', t: T0 };
    const records = [
      rawRecord(event, { shardId: 'shard-0', sequenceNumber: 2 }),
      rawRecord({ ...event, id: '2' }, { shardId: 'shard-0', sequenceNumber: 2 }),
    ];
    await expect(runBounded(p, records)).rejects.toThrow(
      'records of shard shard-0 must come in increasing sequence number order (2 after 2)',
    );
  });

  it('when given plain JSON values, it assigns positions itself and closes every window at the end', async () => {
    const p = build(tumbling('1m'));
    const { rows, rejected, late } = await runBounded(p, [
      { id: '1', k: 'a', v: 1, u: 'x', t: T0 },
      { id: '2', k: 'a', v: 3, u: 'y', t: T0 + 61_000 },
      { id: '3', k: 'a', v: 'bad', u: 'y', t: T0 },
    ]);
    expect(rows.map((r) => [r['window_start'], r['n'], r['total']])).toEqual([
      [T0, 1, 1],
      [T0 + 60_000, 1, 3],
    ]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      reason: 'SCHEMA_VIOLATION',
      shardId: 'bounded-0',
      sequenceNumber: '3',
    });
    expect(Buffer.from(rejected[0]!.data, 'base64').toString()).toContain('"bad"');
    expect(late).toEqual([]);
  });

  it('when a record arrives after its window closed, it goes to late and the emitted row is not changed', async () => {
    const p = build(tumbling('1m'), 0);
    const { rows, late } = await runBounded(
      p,
      [
        { id: '1', k: 'a', v: 1, u: 'x', t: T0 + 1_000 },
        { id: '2', k: 'a', v: 1, u: 'x', t: T0 + 70_000 },
        { id: '3', k: 'a', v: 9, u: 'x', t: T0 + 2_000 },
      ],
      { batchSize: 1 },
    );
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({
      key: 'a',
      windowStart: T0,
      eventTime: T0 + 2_000,
      watermark: T0 + 65_000,
    });
    expect(rows.find((r) => r['window_start'] === T0)).toMatchObject({ n: 1, total: 1 });
  });

  it('when a late-but-allowed record bridges two sessions, they merge into one row', async () => {
    const p = build(session('10s'), 60_000);
    const { rows } = await runBounded(
      p,
      [
        { id: '1', k: 'a', v: 1, u: 'x', t: T0 },
        { id: '2', k: 'a', v: 2, u: 'x', t: T0 + 30_000 },
        { id: '3', k: 'a', v: 4, u: 'x', t: T0 + 15_000 },
        { id: '4', k: 'a', v: 8, u: 'x', t: T0 + 8_000 },
        { id: '5', k: 'a', v: 16, u: 'x', t: T0 + 22_000 },
      ],
      { batchSize: 1 },
    );
    expect(rows).toEqual([
      expect.objectContaining({ window_start: T0, window_end: T0 + 40_000, n: 5, total: 31 }),
    ]);
  });
});
