/**
 * `percentile` against DuckDB's own `quantile_disc` (what `shardflow query` runs) over the same values:
 * the rank rule must be DuckDB's, and the value within 1% relative error of DuckDB's answer. Inputs go
 * through the engine's path: `runBounded` (prepare → combine with `addColumn` → serialised partials →
 * `mergeState`), and, at the aggregate level, random splits merged in random order through JSON.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { z } from 'zod';
import { percentile, pipeline, tumbling } from '../../../../functions/core/dsl';
import { runBounded } from '../../../../functions/core/runner/boundedRunner';

/** Quantiles as written in code and in SQL (decimal literals); 0.07 and 0.56 are where ⌈q·n⌉ in floating point differs. */
const QS = ['0', '0.01', '0.07', '0.25', '0.5', '0.56', '0.9', '0.95', '0.99', '1'] as const;
/** Shrinking a failure re-runs DuckDB many times: stop after 8 s and report the smallest example found so far. */
const SHRINK_LIMIT = { interruptAfterTimeLimit: 8_000, markInterruptAsFailure: true };
const column = (q: string): string => `q_${q.replace('.', '_')}`;

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  connection = await instance.connect();
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

/** DuckDB's `quantile_disc(x, q)` for every q of {@link QS} over `values` (passed as text: exact doubles). */
async function duckQuantiles(values: readonly number[]): Promise<number[]> {
  const list = `[${values.map((v) => `'${String(v)}'`).join(',')}]::VARCHAR[]::DOUBLE[]`;
  const reader = await connection.runAndReadAll(
    `SELECT quantile_disc(x, [${QS.join(', ')}]) FROM (SELECT unnest(${list}) AS x)`,
  );
  return reader.getRowsJS()[0]![0] as number[];
}

/** Within 1% relative error of DuckDB's value (exactly 0 when DuckDB's is 0), up to float noise. */
function withinOnePercent(actual: unknown, expected: number, what: string): void {
  if (expected === 0) {
    expect({ what, actual }).toEqual({ what, actual: 0 });
    return;
  }
  const ok =
    typeof actual === 'number' && Math.abs(actual - expected) <= 0.01 * Math.abs(expected) * (1 + 1e-9);
  if (!ok)
    throw new Error(`${what}: ${String(actual)} is not within 1% of DuckDB's quantile_disc ${expected}`);
}

const positive = fc.oneof(
  fc.double({ min: 1e-3, max: 1e9, noNaN: true }),
  // Ties: where a rank rule that is off by one still lands on an equal value, and where it does not.
  fc.integer({ min: 1, max: 12 }),
);
const anySign = fc.oneof(
  positive,
  positive.map((x) => -x),
  fc.constant(0),
);

const Ev = z.object({ t: z.number(), v: z.number() });
const engine = pipeline('percentile-vs-duckdb')
  .source({ stream: 's' })
  .clean({ schema: Ev, eventTime: (e) => e.t })
  .keyBy(() => 'k')
  .window(tumbling('1h'), { allowedLateness: 0, maxOutOfOrderness: 0 })
  .aggregate(
    Object.fromEntries(QS.map((q) => [column(q), percentile<z.infer<typeof Ev>>((e) => e.v, Number(q))])),
  )
  .sink({ table: 't' });
const T0 = Date.UTC(2026, 0, 1);

/** The engine's result row for `values` (one window, one key) in batches of `batchSize`. */
async function engineRow(values: readonly number[], batchSize: number): Promise<Record<string, unknown>> {
  const events = values.map((v, i) => ({ t: T0 + i, v }));
  const { rows, rejected, late } = await runBounded(engine, events, { batchSize });
  expect(rejected).toEqual([]);
  expect(late).toEqual([]);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/**
 * The aggregate-level path with every split and order: each part added as a column (as `combine` does) and
 * serialised, then folded into the stored state through JSON as `mergeState` does, in `order`.
 */
function mergedResult(
  q: number,
  values: readonly number[],
  cuts: readonly number[],
  order: readonly number[],
) {
  const agg = percentile<number>((n) => n, q);
  const points = [...new Set(cuts.map((c) => c % (values.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let prev = 0;
  for (const p of [...points, values.length]) {
    const rows = values.slice(prev, p).map((v) => [Symbol('other'), v]);
    parts.push(JSON.stringify(agg.serialize(agg.addColumn!(agg.create(), rows, 1))));
    prev = p;
  }
  const sorted = parts.map((part, i) => ({ part, key: order[i] ?? i })).sort((a, b) => a.key - b.key);
  let stored = JSON.stringify(agg.serialize(agg.create()));
  for (const [i, { part }] of sorted.entries()) {
    const [a, b] = i % 2 === 0 ? [stored, part] : [part, stored];
    stored = JSON.stringify(
      agg.serialize(agg.merge(agg.deserialize(JSON.parse(a)), agg.deserialize(JSON.parse(b)))),
    );
  }
  const state = agg.deserialize(JSON.parse(stored));
  expect(state.count).toBe(values.length);
  return agg.result(state);
}

describe('percentile against DuckDB quantile_disc', () => {
  it.each([
    ['small windows (1..50 values)', 1, 50, 1, 120],
    ['larger windows (51..2000 values)', 51, 2_000, 50, 20],
  ])(
    'when %s run through the engine in random batches, every q is within 1%% of quantile_disc',
    async (_, minLength, maxLength, minBatch, numRuns) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(positive, { minLength, maxLength, size: 'max' }),
          fc.integer({ min: minBatch, max: 10 * minBatch + 50 }),
          async (values, batchSize) => {
            const expected = await duckQuantiles(values);
            const row = await engineRow(values, batchSize);
            QS.forEach((q, i) => withinOnePercent(row[column(q)], expected[i]!, `q=${q} n=${values.length}`));
          },
        ),
        { numRuns, ...SHRINK_LIMIT },
      );
    },
    20_000,
  );

  it.each([
    ['1..50', 1, 50, 100],
    ['51..3000', 51, 3_000, 20],
  ])(
    'when %s values of any sign (zeros, ties) are split randomly and merged in any order through JSON, every q is within 1%% of quantile_disc',
    async (_, minLength, maxLength, numRuns) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(anySign, { minLength, maxLength, size: 'max' }),
          fc.array(fc.nat(), { maxLength: 6 }),
          fc.array(fc.nat(), { maxLength: 7 }),
          async (values, cuts, order) => {
            const expected = await duckQuantiles(values);
            QS.forEach((q, i) =>
              withinOnePercent(
                mergedResult(Number(q), values, cuts, order),
                expected[i]!,
                `q=${q} n=${values.length}`,
              ),
            );
          },
        ),
        { numRuns, ...SHRINK_LIMIT },
      );
    },
    20_000,
  );

  it('when values span more than the 2048 bins of a sign, ranks stay exact: within 1% unless the value at the rank collapsed (then a larger magnitude of the same sign)', async () => {
    const wide = fc.double({ min: 1e-300, max: 1e300, noNaN: true });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            wide,
            wide.map((x) => -x),
            fc.constant(0),
          ),
          { minLength: 1, maxLength: 200, size: 'max' },
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 7 }),
        async (values, cuts, order) => {
          const expected = await duckQuantiles(values);
          const largest = (sign: number): number =>
            Math.max(0, ...values.filter((v) => Math.sign(v) === sign).map(Math.abs));
          QS.forEach((q, i) => {
            const want = expected[i]!;
            const got = mergedResult(Number(q), values, cuts, order)!;
            // 2046 bins of γ = 1.01/0.99 each: ~5.9e17; below that the value shares the lowest kept bin.
            if (want === 0 || Math.abs(want) * 5e17 >= largest(Math.sign(want))) {
              withinOnePercent(got, want, `q=${q}`);
            } else {
              expect(Math.sign(got)).toBe(Math.sign(want));
              expect(Math.abs(got)).toBeGreaterThanOrEqual(Math.abs(want) * 0.99);
            }
          });
        },
      ),
      { numRuns: 60, ...SHRINK_LIMIT },
    );
  }, 20_000);

  it('when n·q is an integer that floating point overshoots (100 × 0.07 = 7.000000000000001), the rank is DuckDB’s', async () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const [, , p07] = await duckQuantiles(values);
    expect(p07).toBe(7);
    for (const batchSize of [100, 7])
      withinOnePercent((await engineRow(values, batchSize))[column('0.07')], 7, 'q=0.07');
  });
});
