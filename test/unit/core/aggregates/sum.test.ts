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

describe('sum beyond the double range', () => {
  it('when finite inputs overflow, the state is ±Infinity (NaN for both signs) and it survives storage', () => {
    const agg = sum<number>((n) => n);
    const up = agg.addColumn!(agg.create(), [[1e308], [1e308]], 0);
    const down = agg.addColumn!(agg.create(), [[-1e308], [-1e308]], 0);
    expect(up).toBe(Infinity);
    expect(JSON.parse(JSON.stringify(agg.serialize(up)))).toBe('Infinity');
    expect(agg.deserialize(JSON.parse(JSON.stringify(agg.serialize(up))))).toBe(Infinity);
    expect(agg.deserialize(JSON.parse(JSON.stringify(agg.serialize(down))))).toBe(-Infinity);
    const both = agg.merge(agg.deserialize(agg.serialize(up)), agg.deserialize(agg.serialize(down)));
    expect(agg.result(agg.deserialize(JSON.parse(JSON.stringify(agg.serialize(both)))))).toBeNaN();
  });

  it('when a stored state is neither a number nor a named non-finite value, it is refused', () => {
    const agg = sum<number>((n) => n);
    for (const bad of [null, 'inf', '1e3', [], {}])
      expect(() => agg.deserialize(bad as never)).toThrow(
        'sum state must be a number or Infinity, -Infinity, NaN',
      );
  });
});
