/**
 * The engine's half of DESIGN.md §3: with per-window fences and dedupe ids, crashes between partial writes
 * and whole-batch redelivery change nothing. A minimal in-memory applier plays the state layer.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { avg, count, distinctCount, pipeline, sliding, sum, tumbling } from '../../../../functions/core/dsl';
import { runBounded } from '../../../../functions/core/runner/boundedRunner';
import { padSequence } from '../../../../functions/core/sequence';
import type { Fence, Json, RawRecord, ResultRow, WindowSpec } from '../../../../functions/core/types';
import { WatermarkTracker } from '../../../../functions/core/watermark/WatermarkTracker';
import { rawRecord } from '../../../helpers/records';

const Ev = z.object({ id: z.string(), k: z.string(), v: z.number().int(), t: z.number() });
const T0 = Date.UTC(2026, 0, 1);

const build = (window: WindowSpec) =>
  pipeline('eo')
    .source({ stream: 's' })
    .clean({ schema: Ev, eventTime: (e) => e.t, dedupeBy: (e) => e.id })
    .keyBy((e) => e.k)
    .window(window, { allowedLateness: 1_000, maxOutOfOrderness: 3_000 })
    .aggregate({ n: count(), total: sum((e) => e.v), mean: avg((e) => e.v), ids: distinctCount((e) => e.id) })
    .sink({ table: 't' });

interface Item {
  state: Record<string, Json>;
  records: number;
  fence: Record<string, string>;
  seen: Set<string>;
}

/** Applies batches like the state layer, crashing after a random subset of window writes when told to. */
function applyWithCrashes(
  p: ReturnType<typeof build>,
  batches: readonly RawRecord[][],
  crashes: readonly (readonly boolean[] | null)[],
): ResultRow[] {
  const items = new Map<string, Item>();
  const id = (key: string, start: number, end: number): string => `${key}|${start}|${end}`;
  const progress = new Map<string, string>();
  const tracker = new WatermarkTracker({ maxOutOfOrdernessMs: 3_000, idleTimeoutMs: Infinity });
  let watermark = -Infinity;
  const rows: ResultRow[] = [];
  batches.forEach((batch, b) => {
    const attempt = (crashAfter: readonly boolean[] | null): boolean => {
      // Records at or below the shard's progress were applied by an earlier, completed attempt.
      const fresh = batch.filter((r) => {
        const done = progress.get(r.shardId);
        return done === undefined || padSequence(r.sequenceNumber) > done;
      });
      const prepared = p.prepare(fresh, { closedWatermark: watermark });
      const partials = p.combine(
        prepared,
        (key, w): Fence | undefined => items.get(id(key, w.start, w.end))?.fence,
        (key, w) => items.get(id(key, w.start, w.end))?.seen,
      );
      for (let i = 0; i < partials.length; i++) {
        if (crashAfter !== null && crashAfter[i % crashAfter.length] === true) return false;
        const part = partials[i]!;
        const key = id(part.key, part.window.start, part.window.end);
        const cur = items.get(key) ?? { state: {}, records: 0, fence: {}, seen: new Set<string>() };
        cur.state = p.mergeState(cur.state, part.state);
        cur.records += part.records;
        for (const [shard, seq] of Object.entries(part.maxSequence))
          if ((cur.fence[shard] ?? '') < seq) cur.fence[shard] = seq;
        for (const d of part.dedupeIds ?? []) cur.seen.add(d);
        items.set(key, cur);
      }
      for (const [shard, s] of Object.entries(prepared.shards)) {
        progress.set(shard, s.lastSequence);
        tracker.observe(shard, s.maxEventTime, 0);
      }
      return true;
    };
    if (!attempt(crashes[b] ?? null)) attempt(null);
    watermark = tracker.watermark(0);
    emit(watermark);
  });
  emit(Infinity);
  return rows;

  function emit(wm: number): void {
    for (const [key, item] of [...items]) {
      const [k, start, end] = key.split('|');
      const window = { start: Number(start), end: Number(end) };
      if (!p.isClosed(window, wm)) continue;
      rows.push(p.resultRow(k!, window, item.state, item.records));
      items.delete(key);
    }
  }
}

const sortRows = (rows: ResultRow[]): ResultRow[] =>
  [...rows].sort(
    (a, b) =>
      (a['window_start'] as number) - (b['window_start'] as number) ||
      (a['window_end'] as number) - (b['window_end'] as number) ||
      String(a['key']).localeCompare(String(b['key'])),
  );

describe('exactly-once application of partials', () => {
  it.each([
    ['tumbling', tumbling('10s')],
    ['sliding', sliding('10s', '5s')],
  ] as const)(
    'when %s batches crash after some window writes and are redelivered whole, the rows equal an undisturbed run',
    async (_name, window) => {
      const p = build(window);
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              k: fc.constantFrom('a', 'b', 'c'),
              v: fc.integer({ min: 0, max: 9 }),
              dt: fc.integer({ min: 0, max: 60_000 }),
              dup: fc.boolean(),
            }),
            {
              minLength: 1,
              maxLength: 80,
            },
          ),
          fc.integer({ min: 1, max: 15 }),
          fc.array(fc.option(fc.array(fc.boolean(), { minLength: 1, maxLength: 4 })), { maxLength: 40 }),
          async (xs, batchSize, crashes) => {
            // One shard, delivered in event-time order; producer duplicates repeat the same id.
            const events = xs
              .map((x, i) => ({ id: `id-${i}`, k: x.k, v: x.v, t: T0 + x.dt, dup: x.dup }))
              .sort((a, b) => a.t - b.t)
              .flatMap((e) => (e.dup ? [e, e] : [e]));
            const records = events.map((e, i) =>
              rawRecord(
                { id: e.id, k: e.k, v: e.v, t: e.t },
                {
                  shardId: 'shard-0',
                  sequenceNumber: `4959${String(i + 1).padStart(52, '0')}`,
                  approximateArrivalTimestamp: T0 + 3_600_000,
                },
              ),
            );
            const batches: RawRecord[][] = [];
            for (let i = 0; i < records.length; i += batchSize) batches.push(records.slice(i, i + batchSize));
            const expected = await runBounded(p, records, { batchSize });
            expect(expected.late).toEqual([]);
            expect(sortRows(applyWithCrashes(p, batches, crashes))).toEqual(sortRows(expected.rows));
            // And duplicates never count twice: total events equals distinct ids per window.
            for (const row of expected.rows) expect(row['n']).toBe(row['ids']);
          },
        ),
        { numRuns: 60 },
      );
    },
    30_000,
  );
});
