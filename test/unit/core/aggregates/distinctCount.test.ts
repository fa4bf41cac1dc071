import fc from 'fast-check';
import { distinctCount } from '../../../../functions/core/aggregates/distinctCount';
import { HLL_EXACT_LIMIT } from '../../../../functions/core/aggregates/distinctState';
import { HLL_STANDARD_ERROR } from '../../../../functions/core/aggregates/hyperLogLog';
import { StateDeserializationError } from '../../../../functions/core/errors';
import { aggregateContract } from './aggregateContract';

// States are canonical (a function of the set of values), so merge(a, b) equals aggregate(a ∪ b) exactly.
aggregateContract('distinctCount', () => distinctCount<string>((s) => s), {
  input: fc.string({ maxLength: 12 }),
  maxStateChars: 6_000,
});

/** The dense registers' stored size: `d` + base64 of 4096 bytes. */
const DENSE_CHARS = 1 + 4 * Math.ceil(4096 / 3);

const agg = distinctCount<string>((s) => s);
type State = ReturnType<typeof agg.create>;

const fold = (values: readonly string[]): State => {
  let s = agg.create();
  for (const v of values) s = agg.add(s, v);
  return s;
};
/** Through JSON, as state is stored. */
const roundTrip = (s: State): State => agg.deserialize(JSON.parse(JSON.stringify(agg.serialize(s))));
const names = (from: number, to: number, prefix = 'v'): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('distinctCount', () => {
  it(`when values arrive one by one (with repeats), the count is exact at every cardinality up to ${HLL_EXACT_LIMIT}, stored and read back too`, () => {
    let s = agg.create();
    expect(agg.result(s)).toBe(0);
    for (let c = 1; c <= HLL_EXACT_LIMIT; c++) {
      s = agg.add(s, `user-${c}`);
      s = agg.add(s, `user-${(c * 7) % c || c}`); // a value already counted
      expect({ c, count: agg.result(s) }).toEqual({ c, count: c });
      const back = roundTrip(s);
      expect({ c, count: agg.result(back) }).toEqual({ c, count: c });
      expect(agg.serialize(back)).toEqual(agg.serialize(s));
    }
    s = agg.add(s, 'one more');
    expect(agg.result(s)).toBeGreaterThanOrEqual(HLL_EXACT_LIMIT + 1);
    expect(Math.abs(agg.result(s) - 513) / 513).toBeLessThanOrEqual(3 * HLL_STANDARD_ERROR);
  });

  it('when there are 11 distinct values that share a HyperLogLog register (the registers alone said 10), it counts 11', () => {
    // user-1683..user-1693: two of them fall into one register, so linear counting over the registers says 10.
    const values = names(1_683, 1_694, 'user-');
    expect(agg.result(fold([...values, ...values]))).toBe(11);
    expect(agg.result(roundTrip(fold(values)))).toBe(11);
    for (const prefix of ['', 'user-', 'page/', 'ü-'])
      expect(agg.result(fold(names(0, 11, prefix)))).toBe(11);
  });

  it('when numbers are counted, they count by their string form, exactly', () => {
    const numbers = distinctCount<number>((n) => n);
    let s = numbers.create();
    for (const v of [1, 1, 2, 3, 1.5, -0, 0]) s = numbers.add(s, v);
    expect(numbers.result(s)).toBe(5);
    for (let v = 0; v < HLL_EXACT_LIMIT; v++) s = numbers.add(s, v * 0.25);
    expect(numbers.result(s)).toBe(HLL_EXACT_LIMIT);
  });

  it(`when random partials (overlapping, repeated) are added as columns, stored, and merged in any order, the count is exact up to ${HLL_EXACT_LIMIT} and the state is that of aggregating everything at once`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_200 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(7)), { maxLength: 1_500, size: 'max' }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pool, picks, order) => {
          // Each pick is one value of the pool given to one of up to 8 partials.
          const values = picks.map(([v]) => `k${v % pool}`);
          const parts: string[][] = Array.from({ length: 8 }, () => []);
          picks.forEach(([, p], i) => parts[p]!.push(values[i]!));
          const stored = parts.map((part) =>
            JSON.stringify(
              agg.serialize(
                agg.addColumn!(
                  agg.create(),
                  part.map((v) => [0, v]),
                  1,
                ),
              ),
            ),
          );
          const ordered = stored.map((p, i) => ({ p, key: order[i] ?? i })).sort((a, b) => a.key - b.key);
          let merged = JSON.stringify(agg.serialize(agg.create()));
          for (const [i, { p }] of ordered.entries()) {
            const [a, b] = i % 2 === 0 ? [merged, p] : [p, merged];
            merged = JSON.stringify(
              agg.serialize(agg.merge(agg.deserialize(JSON.parse(a)), agg.deserialize(JSON.parse(b)))),
            );
          }
          const truth = new Set(values).size;
          const all = fold(values);
          expect(JSON.parse(merged)).toBe(agg.serialize(all));
          const count = agg.result(agg.deserialize(JSON.parse(merged)));
          if (truth <= HLL_EXACT_LIMIT) expect(count).toBe(truth);
          else expect(count).toBeGreaterThan(HLL_EXACT_LIMIT);
          expect(merged.length).toBeLessThanOrEqual(DENSE_CHARS + 2);
        },
      ),
      // Shrinking a failure of 1,500 values is slow: stop after 8 s with the smallest example so far.
      { numRuns: 150, interruptAfterTimeLimit: 8_000, markInterruptAsFailure: true },
    );
  }, 20_000);

  describe('when two states are merged, every combination equals aggregating the union at once', () => {
    const cases: [string, [number, number], [number, number], number][] = [
      ['exact + exact, staying exact', [0, 300], [100, 400], 400],
      ['exact + exact, exactly at the limit', [0, 256], [256, 512], 512],
      ['exact + exact, crossing the limit by one', [0, 300], [212, 513], 513],
      ['exact + exact, crossing the limit', [0, 400], [300, 700], 700],
      ['exact + dense', [0, 100], [50, 3_000], 3_000],
      ['dense + exact', [0, 3_000], [2_900, 3_200], 3_200],
      ['dense + exact (inside it)', [0, 3_000], [10, 20], 3_000],
      ['dense + dense', [0, 2_000], [1_000, 5_000], 5_000],
    ];
    it.each(cases)('%s', (_, [a0, a1], [b0, b1], union) => {
      const a = fold(names(a0, a1));
      const b = fold(names(b0, b1));
      const bStored = agg.serialize(b);
      const expected = agg.serialize(fold(names(0, union)));
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const) {
        const merged = agg.merge(roundTrip(x), roundTrip(y));
        expect(agg.serialize(merged)).toBe(expected);
        // Merging mutates only its first argument and shares nothing with the second.
        agg.add(merged, 'added after the merge');
        expect(agg.serialize(b)).toBe(bStored);
      }
      const count = agg.result(agg.merge(roundTrip(a), roundTrip(b)));
      if (union <= HLL_EXACT_LIMIT) expect(count).toBe(union);
      else expect(Math.abs(count - union) / union).toBeLessThanOrEqual(3 * HLL_STANDARD_ERROR);
    });
  });

  it('when there are more distinct values than the limit, every estimate is within 3 standard errors (±4.9%) and their RMS error within ~1.63%', () => {
    const errors: number[] = [];
    for (const prefix of ['user-', 'id:', '']) {
      let s = agg.create();
      let n = 0;
      for (const target of [513, 520, 600, 800, 1_000, 1_500, 2_000, 5_000, 10_000, 50_000, 200_000]) {
        for (; n < target; n++) s = agg.add(s, `${prefix}${n}`);
        const rel = (agg.result(s) - n) / n;
        expect({ prefix, n, within3Sigma: Math.abs(rel) <= 3 * HLL_STANDARD_ERROR }).toEqual({
          prefix,
          n,
          within3Sigma: true,
        });
        errors.push(rel);
      }
    }
    const rms = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / errors.length);
    expect(rms).toBeLessThanOrEqual(HLL_STANDARD_ERROR * 1.25);
  });

  it('when it states its error bound, it names the exact limit, p=12 and ~1.63%', () => {
    expect(HLL_STANDARD_ERROR).toBeCloseTo(0.01625, 4);
    expect(HLL_EXACT_LIMIT).toBe(512);
    expect(distinctCount<string>((s) => s).errorBound).toMatch(/exact up to 512 distinct.*p=12.*1\.63%/);
  });

  it('when stored, exact states are `x` + 8 bytes per value and never larger than the dense registers', () => {
    expect(agg.serialize(agg.create())).toBe('x');
    const one = agg.serialize(fold(['a'])) as string;
    expect(one.startsWith('x')).toBe(true);
    expect(Buffer.from(one.slice(1), 'base64')).toHaveLength(8);
    const full = agg.serialize(fold(names(0, HLL_EXACT_LIMIT))) as string;
    expect(full.startsWith('x')).toBe(true);
    expect(full.length).toBe(DENSE_CHARS);
    const over = agg.serialize(fold(names(0, HLL_EXACT_LIMIT + 1))) as string;
    expect(over.startsWith('r')).toBe(true);
    expect(over.length).toBeLessThan(DENSE_CHARS);
    const big = agg.serialize(fold(names(0, 50_000))) as string;
    expect(big.startsWith('d')).toBe(true);
    expect(big.length).toBe(DENSE_CHARS);
  });

  it('when the stored form is malformed, not canonical or of the old format, deserialize throws', () => {
    const good = agg.serialize(fold(['a', 'b', 'c'])) as string;
    const bytes = Buffer.from(good.slice(1), 'base64');
    const x = (b: Buffer): string => `x${b.toString('base64')}`;
    const swapped = Buffer.concat([bytes.subarray(8, 16), bytes.subarray(0, 8), bytes.subarray(16)]);
    const repeated = Buffer.concat([bytes.subarray(0, 8), bytes]);
    const tooMany = Buffer.alloc(8 * (HLL_EXACT_LIMIT + 1));
    for (let i = 0; i < HLL_EXACT_LIMIT + 1; i++) tooMany.writeUInt32BE(i + 1, 8 * i + 4);
    for (const bad of [
      x(bytes.subarray(0, 20)),
      x(swapped),
      x(repeated),
      x(tooMany),
      's', // the register list before exact counting (states with few registers must not read as > 512)
      `s${Buffer.from([0, 1, 3]).toString('base64')}`,
      'q',
      42,
      { not: 'state' },
    ]) {
      expect(() => agg.deserialize(bad)).toThrow(StateDeserializationError);
    }
    expect(agg.result(agg.deserialize(good))).toBe(3);
    expect(agg.result(agg.deserialize(x(tooMany.subarray(0, 8 * HLL_EXACT_LIMIT))))).toBe(HLL_EXACT_LIMIT);
  });
});
