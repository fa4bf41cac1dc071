import fc from 'fast-check';
import { sum } from '../../../../functions/core/aggregates/sum';
import { aggregateContract, closeNumber } from './aggregateContract';

aggregateContract('sum', () => sum<number>((n) => n), {
  input: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  same: closeNumber,
});

describe('sum', () => {
  it('when values are summed, it returns the total and 0 for an empty window', () => {
    const agg = sum<{ v: number }>((x) => x.v);
    expect(agg.result(agg.create())).toBe(0);
    expect(agg.result([1, 2, 3.5].reduce((s, v) => agg.add(s, agg.input({ v })), agg.create()))).toBe(6.5);
  });

  it('when an input is NaN or not a number, validate reports it', () => {
    const agg = sum<number>((n) => n);
    expect(agg.validate(Number.NaN)).toMatch(/finite number/);
    expect(agg.validate('3' as unknown as number)).toMatch(/finite number/);
    expect(agg.validate(3)).toBeUndefined();
  });
});
