import fc from 'fast-check';
import { decimalRank, percentile } from '../../../../functions/core/aggregates/percentile';
import { PipelineDefinitionError, StateDeserializationError } from '../../../../functions/core/errors';
import { aggregateContract } from './aggregateContract';

/** DuckDB's quantile_disc for q = k/1000: the element at 1-based rank max(1, ⌈n·k/1000⌉) (n·k is exact). */
function quantileDisc(values: readonly number[], k: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((sorted.length * k) / 1000)) - 1]!;
}

function withinOnePercent(actual: number | null, expected: number | null): void {
  if (expected === null || actual === null) {
    expect(actual).toBe(expected);
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.01 * Math.abs(expected) + 1e-9);
}

const roundTrip = <S>(s: S): S => {
  const agg = percentile<number>((n) => n, 0.5);
  return agg.deserialize(JSON.parse(JSON.stringify(agg.serialize(s as never)))) as S;
};

const positive = fc.double({ min: 0.001, max: 1e7, noNaN: true });
const anySign = fc.oneof(
  positive,
  positive.map((x) => -x),
  fc.constant(0),
);

aggregateContract('percentile', () => percentile<number>((n) => n, 0.95), {
  input: anySign,
  same: withinOnePercent,
  maxStateChars: 50_000,
});

describe('percentile', () => {
  it('when values span more bins than the limit (the lowest collapse), addColumn leaves the state one-by-one add leaves', () => {
    const wide = fc.double({ min: 1e-300, max: 1e300, noNaN: true });
    const value = fc.oneof(
      wide,
      wide.map((x) => -x),
      fc.constant(0),
    );
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 40 }),
        fc.array(value, { minLength: 1, maxLength: 80 }),
        (before, xs) => {
          const agg = percentile<number>((n) => n, 0.5);
          let expected = agg.create();
          for (const x of [...before, ...xs]) expected = agg.add(expected, x);
          let state = agg.create();
          for (const x of before) state = agg.add(state, x);
          const batched = agg.addColumn!(
            state,
            xs.map((x) => [x]),
            0,
          );
          expect(agg.serialize(batched)).toEqual(agg.serialize(expected));
          expect(agg.result(batched)).toBe(agg.result(expected));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('when one sign spans ~6e17x and more (found in review), addColumn equals one-by-one add', () => {
    const values = [-81.96647766767387, -5.826873184531205e-7, -1901959133.8348541, -4.9838978786470584e19];
    const agg = percentile<number>((n) => n, 0.5);
    let oneByOne = agg.create();
    for (const v of values) oneByOne = agg.add(oneByOne, v);
    const batched = agg.addColumn!(
      agg.create(),
      values.map((v) => [v]),
      0,
    );
    expect(agg.serialize(batched)).toEqual(agg.serialize(oneByOne));
  });

  it("when values are sketched, every quantile is within 1% of quantile_disc's (rank max(1, ⌈q·n⌉))", () => {
    fc.assert(
      fc.property(
        fc.array(anySign, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 0, max: 1000 }),
        (xs, k) => {
          const agg = percentile<number>((n) => n, k / 1000);
          let s = agg.create();
          for (const x of xs) s = agg.add(s, x);
          withinOnePercent(agg.result(s), quantileDisc(xs, k));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('when the rank is computed, it is ⌈q·n⌉ on the decimal q as written (as DuckDB does for 0.07), not the rounded double product', () => {
    expect(Math.ceil(100 * 0.07)).toBe(8); // what a floating-point rank would pick
    expect(decimalRank(0.07)(100)).toBe(6); // 0-based: the 7th value, as quantile_disc(x, 0.07)
    expect(decimalRank(0.56)(25)).toBe(13);
    expect(decimalRank(0.95)(20)).toBe(18);
    expect(decimalRank(0.95)(3)).toBe(2);
    expect(decimalRank(0.5)(2)).toBe(0);
    expect(decimalRank(0.5)(3)).toBe(1);
    expect(decimalRank(0)(1)).toBe(0);
    expect(decimalRank(0)(1000)).toBe(0);
    expect(decimalRank(1)(1000)).toBe(999);
    expect(decimalRank(1e-7)(10_000_001)).toBe(1);
    expect(decimalRank(0.1 + 0.2)(10)).toBe(3); // 0.30000000000000004: just above 3, so the 4th value
    expect(decimalRank(0.999)(2 ** 40)).toBe(Math.ceil(0.999 * 2 ** 40) - 1);
  });

  it('when the library would collapse bins (it counted a boundary bin twice), counts stay exact through add, addColumn, merge and storage', () => {
    const wide = fc.double({ min: 1e-300, max: 1e300, noNaN: true });
    const value = fc.oneof(
      wide,
      wide.map((x) => -x),
      fc.constant(0),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { maxLength: 60 }), { maxLength: 5 }),
        fc.boolean(),
        (parts, byColumn) => {
          const agg = percentile<number>((n) => n, 0.5);
          let merged = agg.create();
          for (const part of parts) {
            let s = agg.create();
            if (byColumn)
              s = agg.addColumn!(
                s,
                part.map((x) => [x]),
                0,
              );
            else for (const x of part) s = agg.add(s, x);
            merged = agg.deserialize(
              JSON.parse(JSON.stringify(agg.serialize(agg.merge(merged, roundTrip(s))))),
            );
          }
          const n = parts.reduce((sum, p) => sum + p.length, 0);
          expect(merged.count).toBe(n);
          expect(merged.positive.count + merged.negative.count + merged.zeros).toBe(n);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('when merged partials collapsed differently (the library wrote NaN bins), the stored state stays readable and exact', () => {
    // Found by property testing the library's merge: the merged negative store held a NaN bin.
    const a = [-2.358825463931438e86, -7.307682352768127e190];
    const b = [
      -3.0242776297313844e-74, -4.513425699167591e-175, 1.3240143922122871e172, 2.4636449784089633e-14,
    ];
    const agg = percentile<number>((n) => n, 1);
    let sa = agg.create();
    for (const v of a) sa = agg.add(sa, v);
    let sb = agg.create();
    for (const v of b) sb = agg.add(sb, v);
    const back = roundTrip(agg.merge(sa, sb));
    expect(back.count).toBe(6);
    withinOnePercent(agg.result(back), 1.3240143922122871e172);
  });

  it('when negative values are split across merged sketches, they are kept (library merge bug worked around)', () => {
    const agg = percentile<number>((n) => n, 0);
    const a = agg.add(agg.create(), 10);
    const b = agg.add(agg.create(), -50);
    const merged = agg.deserialize(agg.serialize(agg.merge(a, b)));
    withinOnePercent(agg.result(merged), -50);
  });

  it('when a column spans more than the bin limit, addColumn keeps the upper quantiles within 1%', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99, 1),
        (xs, q) => {
          const agg = percentile<number>((n) => n, q);
          const s = agg.addColumn!(
            agg.create(),
            xs.map((x) => [x]),
            0,
          );
          const sorted = [...xs].sort((a, b) => a - b);
          // Only values more than 6e17x below the maximum collapse (into the lowest kept bin).
          const expected = sorted[Math.max(1, Math.ceil(q * sorted.length - 1e-9)) - 1]!;
          if (expected >= sorted[sorted.length - 1]! / 6e17) withinOnePercent(agg.result(s), expected);
          expect(s.count).toBe(xs.length);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('when hostile inputs span the whole double range, the stored state stays bounded', () => {
    const agg = percentile<number>((n) => n, 0.5);
    let s = agg.create();
    for (let e = -300; e <= 300; e += 1) s = agg.add(agg.add(s, 10 ** e), -(10 ** e));
    const back = agg.deserialize(
      agg.serialize(agg.merge(agg.deserialize(agg.serialize(s)), agg.deserialize(agg.serialize(s)))),
    );
    expect(JSON.stringify(agg.serialize(back)).length).toBeLessThanOrEqual(12_000);
    expect(back.count).toBe(4 * 601);
  });

  it('when tiny values are 1e300 times below the bulk, they collapse but the median of the bulk stays within 1%', () => {
    const agg = percentile<number>((n) => n, 0.5);
    let a = agg.create();
    for (let e = -300; e < 0; e += 1) a = agg.add(a, 10 ** e);
    for (let i = 0; i < 1_000; i++) a = agg.add(a, 1e6);
    let b = agg.create();
    for (let e = -300; e < 0; e += 1) b = agg.add(b, -(10 ** e));
    const merged = agg.merge(agg.deserialize(agg.serialize(a)), agg.deserialize(agg.serialize(b)));
    withinOnePercent(agg.result(merged), 1e6);
  });

  it('when the stored string is truncated, padded or of another format, deserialize throws', () => {
    const agg = percentile<number>((n) => n, 0.5);
    const good = agg.serialize(agg.add(agg.add(agg.create(), 3), 300)) as string;
    const bytes = Buffer.from(good, 'base64');
    expect(() => agg.deserialize(bytes.subarray(0, bytes.length - 1).toString('base64'))).toThrow(
      StateDeserializationError,
    );
    expect(() => agg.deserialize(Buffer.concat([bytes, Buffer.from([1])]).toString('base64'))).toThrow(
      StateDeserializationError,
    );
    expect(() =>
      agg.deserialize(Buffer.concat([Buffer.from([2]), bytes.subarray(1)]).toString('base64')),
    ).toThrow(StateDeserializationError);
    withinOnePercent(agg.result(agg.deserialize(good)), 3);
    // [format 1, 0 zeros, 2 positive bins: key +10 ×1, then delta −1 (not ascending) ×1, 0 negative bins]
    const state = (...varints: number[]): string => Buffer.from(varints).toString('base64');
    expect(agg.result(agg.deserialize(state(1, 0, 2, 20, 1, 2, 1, 0)))).toBeGreaterThan(0);
    expect(() => agg.deserialize(state(1, 0, 2, 20, 1, 1, 1, 0))).toThrow(StateDeserializationError);
    expect(() => agg.deserialize(state(1, 0, 2, 20, 1, 0, 1, 0))).toThrow(StateDeserializationError);
    // Keys 2048 apart span 2049 bins, more than any stored state holds.
    expect(() => agg.deserialize(state(1, 0, 2, 2, 1, 0x80, 0x20, 1, 0))).toThrow(StateDeserializationError);
    expect(agg.deserialize(state(1, 0, 2, 2, 1, 0xfe, 0x1f, 1, 0)).count).toBe(2);
  });

  it('when the window is empty, it returns null', () => {
    const agg = percentile<number>((n) => n, 0.5);
    expect(agg.result(agg.create())).toBeNull();
  });

  it('when q is outside [0, 1], it throws at definition time naming q', () => {
    expect(() => percentile<number>((n) => n, 1.5)).toThrow(PipelineDefinitionError);
    expect(() => percentile<number>((n) => n, -0.1)).toThrow(/-0.1/);
  });
});
