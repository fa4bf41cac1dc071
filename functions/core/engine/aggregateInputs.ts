/**
 * Reading a value's aggregate inputs (stage 3, `ElementRouter`): every aggregate's `input` of the value, each
 * checked by the aggregate's `validate`, into one array per element.
 *
 * Why generated: a loop over the aggregates makes one call site for all of them (and for every pipeline in
 * the process), so V8 calls each `input` and `validate` through a generic, megamorphic call. Unrolled, each
 * call site sees one function and V8 inlines the small ones (`(e) => e.revenue`, `finiteNumber`): ~0.05x of
 * the engine bench's bare decode loop for page-activity's eight aggregates. Where the runtime forbids
 * generated code, the same contract runs as a loop.
 */
import type { AnyColumnAggregate } from '../aggregates/columnAggregate';

/** Why reading stopped at a column: what its `input` threw, or the problem `validate` named. */
export interface InputFailure {
  error: unknown;
  problem: string | undefined;
}

/**
 * Reads every aggregate's input of `value` into `inputs` (in column order) and returns -1; or, at the first
 * column whose `input` throws, stores the error in `failure.error` and returns `columns + column`; or, at
 * the first whose input `validate` refuses, stores the problem in `failure.problem` and returns `column`.
 */
export type InputReader = (value: unknown, inputs: unknown[], failure: InputFailure) => number;

/** The reader of `aggs`' inputs (each `input` and `validate` called on its aggregate, as a method). */
export function compileInputReader(aggs: readonly AnyColumnAggregate<unknown>[]): InputReader {
  const n = aggs.length;
  const lines: string[] = ['let x, p;'];
  for (let i = 0; i < n; i++) {
    lines.push(`try { x = a${i}.input(value); } catch (error) { failure.error = error; return ${n + i}; }`);
    lines.push(`p = a${i}.validate(x);`);
    lines.push(`if (p !== undefined) { failure.problem = p; return ${i}; }`);
    lines.push(`inputs[${i}] = x;`);
  }
  lines.push('return -1;');
  try {
    const names = aggs.map((_, i) => `a${i}`);
    const body = `"use strict";\nreturn (value, inputs, failure) => {\n${lines.join('\n')}\n};`;
    const factory = new Function(...names, body) as (...values: unknown[]) => InputReader;
    return factory(...aggs);
  } catch {
    // Code generation refused (--disallow-code-generation-from-strings).
    return interpretedInputReader(aggs);
  }
}

/** The same contract as a loop (one call site for every aggregate). */
export function interpretedInputReader(aggs: readonly AnyColumnAggregate<unknown>[]): InputReader {
  const n = aggs.length;
  return (value, inputs, failure) => {
    for (let i = 0; i < n; i++) {
      const agg = aggs[i]!;
      let x: unknown;
      try {
        x = agg.input(value);
      } catch (error) {
        failure.error = error;
        return n + i;
      }
      const problem = agg.validate(x);
      if (problem !== undefined) {
        failure.problem = problem;
        return i;
      }
      inputs[i] = x;
    }
    return -1;
  };
}
