import fc from 'fast-check';
import { avg } from '../../../../functions/core/aggregates/avg';
import { aggregateContract, closeNumber } from './aggregateContract';

aggregateContract('avg', () => avg<number>((n) => n), {
  input: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  same: closeNumber,
});

describe('avg', () => {
  it('when values are added, it returns the mean and null for an empty window', () => {
    const agg = avg<number>((n) => n);
    expect(agg.result(agg.create())).toBeNull();
    expect(agg.result([1, 2, 6].reduce((s, v) => agg.add(s, v), agg.create()))).toBe(3);
  });

  it('when stored as [sum, count], it deserialises and rejects malformed state', () => {
    const agg = avg<number>((n) => n);
    expect(agg.result(agg.deserialize([10, 4]))).toBe(2.5);
    expect(() => agg.deserialize([10, -1])).toThrow(/avg state/);
  });
});

describe('avg beyond the double range', () => {
  it('when the running sum overflows, the mean is Infinity and the state reads back', () => {
    const agg = avg<number>((n) => n);
    const state = agg.addColumn!(agg.create(), [[1e308], [1e308]], 0);
    const stored = JSON.parse(JSON.stringify(agg.serialize(state)));
    expect(stored).toEqual(['Infinity', 2]);
    expect(agg.result(agg.deserialize(stored))).toBe(Infinity);
  });
});
