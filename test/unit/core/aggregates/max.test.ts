import fc from 'fast-check';
import { max } from '../../../../functions/core/aggregates/max';
import { aggregateContract } from './aggregateContract';

aggregateContract('max', () => max<number>((n) => n), {
  input: fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }),
});

describe('max', () => {
  it('when values are added, it returns the largest and null for an empty window', () => {
    const agg = max<number>((n) => n);
    expect(agg.result(agg.create())).toBeNull();
    expect(agg.result([3, -2, 7].reduce((s, v) => agg.add(s, v), agg.create()))).toBe(7);
  });
});
