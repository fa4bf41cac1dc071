import { stringOrNumber, type ColumnAggregate } from './columnAggregate';
import {
  HLL_STANDARD_ERROR,
  hllAdd,
  hllCreate,
  hllDeserialize,
  hllEstimate,
  hllMerge,
  hllSerialize,
} from './hyperLogLog';
import { StateDeserializationError } from '../errors';

/** Stated error bound of {@link distinctCount}. */
export const DISTINCT_COUNT_ERROR_BOUND = `HyperLogLog p=12: relative standard error ≈ ${(HLL_STANDARD_ERROR * 100).toFixed(2)}% (≈ ±${(3 * HLL_STANDARD_ERROR * 100).toFixed(1)}% at 3σ)`;

/**
 * Approximate count of distinct values (HyperLogLog, p = 12, standard error ≈ 1.6%; exact-ish for small
 * sets thanks to linear counting). Numbers are counted by their string form. Output column type `bigint`.
 *
 * @example .aggregate({ users: distinctCount((e) => e.userId) })
 */
export function distinctCount<T>(
  fn: (value: T) => string | number,
): ColumnAggregate<T, string | number, Uint8Array, number> {
  return {
    kind: 'distinctCount',
    outputType: 'bigint',
    errorBound: DISTINCT_COUNT_ERROR_BOUND,
    input: fn,
    validate: stringOrNumber,
    create: hllCreate,
    add: addValue,
    addColumn: (state, rows, column) => {
      for (let r = 0; r < rows.length; r++) addValue(state, rows[r]![column] as string | number);
      return state;
    },
    merge: (state, other) => {
      hllMerge(state, other);
      return state;
    },
    serialize: hllSerialize,
    deserialize: (stored) => {
      const registers = typeof stored === 'string' ? hllDeserialize(stored) : undefined;
      if (registers === undefined)
        throw new StateDeserializationError('distinctCount state is not a valid HyperLogLog');
      return registers;
    },
    result: hllEstimate,
  };
}

/** Adds one value (numbers by their decimal text, as keys are) to the registers. */
function addValue(state: Uint8Array, input: string | number): Uint8Array {
  hllAdd(state, typeof input === 'string' ? input : String(input));
  return state;
}
