import fc from 'fast-check';
import { count } from '../../../../functions/core/aggregates/count';
import { aggregateContract } from './aggregateContract';

aggregateContract('count', () => count(), { input: fc.boolean() });

describe('count', () => {
  it('when given a predicate, it counts only matching values', () => {
    const agg = count<number>((n) => n > 2);
    let s = agg.create();
    for (const v of [1, 2, 3, 4, 5]) s = agg.add(s, agg.input(v));
    expect(agg.result(s)).toBe(3);
    expect(agg.outputType).toBe('bigint');
    expect(agg.errorBound).toBeUndefined();
  });

  it('when the predicate returns a non-boolean, validate reports it', () => {
    const agg = count<number>(() => 'yes' as unknown as boolean);
    expect(agg.validate(agg.input(1))).toMatch(/boolean/);
  });
});
