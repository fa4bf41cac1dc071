import fc from 'fast-check';
import type { AnyColumnAggregate } from '../../../../functions/core/aggregates/columnAggregate';
import { count, distinctCount, max, sum } from '../../../../functions/core/dsl';
import {
  compileInputReader,
  interpretedInputReader,
  type InputFailure,
  type InputReader,
} from '../../../../functions/core/engine/aggregateInputs';

interface Value {
  readonly n: unknown;
  readonly s: unknown;
  readonly boom: boolean;
}

/** Aggregates whose inputs a value can break: non-numbers, non-strings, a throwing input, a method using `this`. */
const aggs = [
  count<Value>(),
  sum<Value>((v) => v.n as number),
  distinctCount<Value>((v) => v.s as string),
  max<Value>((v) => {
    if (v.boom) throw new Error('boom');
    return v.n as number;
  }),
  {
    ...count<Value>(),
    label: 'this-aware',
    validate(this: { label: string }, input: unknown) {
      return input === true ? undefined : `${this.label} wanted true`;
    },
  },
] as unknown as AnyColumnAggregate<unknown>[];

/** What a reader did with `value`: its result, the inputs it read, the failure it named. */
function outcome(read: InputReader, value: Value): unknown {
  const inputs = new Array<unknown>(aggs.length);
  const failure: InputFailure = { error: undefined, problem: undefined };
  const result = read(value, inputs, failure);
  return {
    result,
    inputs: result === -1 ? inputs : undefined,
    error: failure.error instanceof Error ? failure.error.message : failure.error,
    problem: failure.problem,
  };
}

describe('aggregateInputs', () => {
  it('when values have good and bad inputs, the compiled reader answers exactly like the loop', () => {
    const compiled = compileInputReader(aggs);
    const loop = interpretedInputReader(aggs);
    const value = fc.record({
      n: fc.oneof(fc.double(), fc.string(), fc.constant(undefined)),
      s: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      boom: fc.boolean(),
    });
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(compiled, v)).toEqual(outcome(loop, v));
      }),
      { numRuns: 2_000 },
    );
  });

  it('when an input throws it returns columns + its index with the error; when one is invalid, its index with the problem', () => {
    const read = compileInputReader(aggs);
    expect(outcome(read, { n: 1, s: 'a', boom: false })).toEqual({
      result: -1,
      inputs: [true, 1, 'a', 1, true],
      error: undefined,
      problem: undefined,
    });
    expect(outcome(read, { n: 1, s: 'a', boom: true })).toMatchObject({
      result: aggs.length + 3,
      error: 'boom',
    });
    expect(outcome(read, { n: 'x', s: 'a', boom: false })).toMatchObject({
      result: 1,
      problem: 'expected a finite number, got "x"',
    });
  });

  it('when an aggregate validate uses `this`, it is called as a method of its aggregate', () => {
    const thisAware = [aggs[4]!];
    const read = compileInputReader(thisAware);
    const failure: InputFailure = { error: undefined, problem: undefined };
    const invalid = {
      ...(aggs[4] as object),
      input: () => false,
    } as unknown as AnyColumnAggregate<unknown>;
    expect(read({}, [undefined], failure)).toBe(-1);
    expect(compileInputReader([invalid])({}, [undefined], failure)).toBe(0);
    expect(failure.problem).toBe('this-aware wanted true');
  });
});
