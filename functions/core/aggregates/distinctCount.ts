import { stringOrNumber, type ColumnAggregate } from './columnAggregate';
import {
  HLL_EXACT_LIMIT,
  distinctAdd,
  distinctCreate,
  distinctDeserialize,
  distinctEstimate,
  distinctMerge,
  distinctReserve,
  distinctSerialize,
  type DistinctState,
} from './distinctState';
import { HLL_PRECISION, HLL_STANDARD_ERROR } from './hyperLogLog';
import { StateDeserializationError } from '../errors';

/** Stated error bound of {@link distinctCount}. */
export const DISTINCT_COUNT_ERROR_BOUND = `exact up to ${HLL_EXACT_LIMIT} distinct values (64-bit hashes); above, HyperLogLog p=12: relative standard error ≈ ${(HLL_STANDARD_ERROR * 100).toFixed(2)}% (≈ ±${(3 * HLL_STANDARD_ERROR * 100).toFixed(1)}% at 3σ)`;

/**
 * Count of distinct values: exact up to {@link HLL_EXACT_LIMIT} (512) distinct values per window and key,
 * whatever the batches and shards the values arrive in (the state keeps their 64-bit hashes); above that a
 * HyperLogLog estimate (p = 12, relative standard error ≈ 1.63%, never below 513). Numbers are counted by
 * their string form. Stored state ≤ 5465 characters in either mode. Output column type `bigint`.
 *
 * @example .aggregate({ users: distinctCount((e) => e.userId) })
 */
export function distinctCount<T>(
  fn: (value: T) => string | number,
): ColumnAggregate<T, string | number, DistinctState, number> {
  return {
    kind: 'distinctCount',
    outputType: 'bigint',
    errorBound: DISTINCT_COUNT_ERROR_BOUND,
    params: { precision: HLL_PRECISION, exactLimit: HLL_EXACT_LIMIT },
    input: fn,
    validate: stringOrNumber,
    create: distinctCreate,
    add: addValue,
    addColumn: (state, rows, column) => {
      distinctReserve(state, rows.length);
      for (let r = 0; r < rows.length; r++) addValue(state, rows[r]![column] as string | number);
      return state;
    },
    merge: distinctMerge,
    serialize: distinctSerialize,
    deserialize: (stored) => {
      const state = typeof stored === 'string' ? distinctDeserialize(stored) : undefined;
      if (state === undefined)
        throw new StateDeserializationError('distinctCount state is not a valid distinct-count state');
      return state;
    },
    result: distinctEstimate,
  };
}

/** Adds one value (numbers by their decimal text, as keys are). */
function addValue(state: DistinctState, input: string | number): DistinctState {
  distinctAdd(state, typeof input === 'string' ? input : String(input));
  return state;
}
