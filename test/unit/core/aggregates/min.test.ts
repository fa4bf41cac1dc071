import fc from 'fast-check';
import { min } from '../../../../functions/core/aggregates/min';
import { aggregateContract } from './aggregateContract';

aggregateContract('min', () => min<number>((n) => n), {
  input: fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }),
});

describe('min', () => {
  it('when values are added, it returns the smallest and null for an empty window', () => {
    const agg = min<number>((n) => n);
    expect(agg.result(agg.create())).toBeNull();
    expect(agg.result([3, -2, 7].reduce((s, v) => agg.add(s, v), agg.create()))).toBe(-2);
  });

  it('when given -0, it stores and returns 0 (JSON has no negative zero)', () => {
    const agg = min<number>((n) => n);
    expect(Object.is(agg.result(agg.add(agg.create(), -0)), 0)).toBe(true);
  });
});
