import fc from 'fast-check';
import { percentile } from '../../../../functions/core/aggregates/percentile';
import { PipelineDefinitionError, StateDeserializationError } from '../../../../functions/core/errors';
import { aggregateContract } from './aggregateContract';

function exactLowerQuantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function withinOnePercent(actual: number | null, expected: number | null): void {
  if (expected === null || actual === null) {
    expect(actual).toBe(expected);
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.01 * Math.abs(expected) + 1e-9);
}

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

  it('when values are sketched, every quantile is within 1% of the exact lower quantile', () => {
    fc.assert(
      fc.property(
        fc.array(anySign, { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, q) => {
          const agg = percentile<number>((n) => n, q);
          let s = agg.create();
          for (const x of xs) s = agg.add(s, x);
          withinOnePercent(agg.result(s), exactLowerQuantile(xs, q));
        },
      ),
      { numRuns: 100 },
    );
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
          const expected = sorted[Math.floor(q * (sorted.length - 1))]!;
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
