import fc from 'fast-check';
import { distinctCount } from '../../../../functions/core/aggregates/distinctCount';
import { HLL_STANDARD_ERROR } from '../../../../functions/core/aggregates/hyperLogLog';
import { aggregateContract } from './aggregateContract';

// HLL registers merge by max, so merge(a, b) equals aggregate(a ∪ b) exactly (same registers).
aggregateContract('distinctCount', () => distinctCount<string>((s) => s), {
  input: fc.string({ maxLength: 12 }),
  maxStateChars: 6_000,
});

describe('distinctCount', () => {
  const estimate = (n: number, prefix = 'user-'): number => {
    const agg = distinctCount<string>((s) => s);
    let s = agg.create();
    for (let i = 0; i < n; i++) s = agg.add(s, `${prefix}${i}`);
    for (let i = 0; i < n; i++) s = agg.add(s, `${prefix}${i}`);
    return agg.result(s);
  };

  it('when there are few distinct values, the estimate is exact or nearly (linear counting)', () => {
    for (const n of [0, 1, 10, 100])
      expect(Math.abs(estimate(n) - n)).toBeLessThanOrEqual(Math.max(1, n * 0.02));
  });

  it.each([1_000, 20_000, 200_000])(
    'when there are %p distinct values, the estimate is within 4 standard errors',
    (n) => {
      const rel = Math.abs(estimate(n) - n) / n;
      expect(rel).toBeLessThanOrEqual(4 * HLL_STANDARD_ERROR);
    },
  );

  it('when it states its error bound, it says p=12 and ~1.6%', () => {
    expect(HLL_STANDARD_ERROR).toBeCloseTo(0.01625, 4);
    expect(distinctCount<string>((s) => s).errorBound).toMatch(/p=12.*1\.63%/);
  });

  it('when state is small it is stored sparse, when large dense, both bounded', () => {
    const agg = distinctCount<string>((s) => s);
    let s = agg.create();
    s = agg.add(s, 'a');
    const small = agg.serialize(s) as string;
    expect(small.startsWith('s')).toBe(true);
    expect(small.length).toBeLessThan(10);
    for (let i = 0; i < 50_000; i++) s = agg.add(s, `x${i}`);
    const big = agg.serialize(s) as string;
    expect(big.startsWith('d')).toBe(true);
    expect(big.length).toBeLessThanOrEqual(5_500);
  });

  it('when numbers are counted, they count by their string form', () => {
    const agg = distinctCount<number>((n) => n);
    let s = agg.create();
    for (const v of [1, 1, 2, 3]) s = agg.add(s, v);
    expect(agg.result(s)).toBe(3);
  });
});
