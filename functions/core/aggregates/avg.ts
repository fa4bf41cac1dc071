import { finiteNumber, loadDouble, storeDouble, type ColumnAggregate } from './columnAggregate';
import { StateDeserializationError } from '../errors';

/** Running sum and count of an average. */
export interface AvgState {
  sum: number;
  count: number;
}

/**
 * Mean of a numeric field; null for an empty window. Output column type `double`. Stored as `[sum, count]`;
 * a sum beyond the double range is carried as ±Infinity (see `sum`), so the mean is too.
 */
export function avg<T>(fn: (value: T) => number): ColumnAggregate<T, number, AvgState, number | null> {
  return {
    kind: 'avg',
    outputType: 'double',
    input: fn,
    validate: finiteNumber,
    create: () => ({ sum: 0, count: 0 }),
    add: (state, input) => {
      state.sum += input;
      state.count += 1;
      return state;
    },
    addColumn: (state, rows, column) => {
      let s = state.sum;
      for (let r = 0; r < rows.length; r++) s += rows[r]![column] as number;
      state.sum = s;
      state.count += rows.length;
      return state;
    },
    merge: (state, other) => {
      state.sum += other.sum;
      state.count += other.count;
      return state;
    },
    serialize: (state) => [storeDouble(state.sum), state.count],
    deserialize: (stored) => {
      const sum = Array.isArray(stored) ? loadDouble(stored[0]) : undefined;
      if (
        !Array.isArray(stored) ||
        stored.length !== 2 ||
        sum === undefined ||
        typeof stored[1] !== 'number' ||
        !Number.isSafeInteger(stored[1]) ||
        stored[1] < 0
      ) {
        throw new StateDeserializationError(
          `avg state must be [sum, count] (given ${JSON.stringify(stored)})`,
        );
      }
      return { sum, count: stored[1] };
    },
    result: (state) => (state.count === 0 ? null : state.sum / state.count),
  };
}
