import { finiteNumber, type ColumnAggregate } from './columnAggregate';
import { StateDeserializationError } from '../errors';

/** Running sum and count of an average. */
export interface AvgState {
  sum: number;
  count: number;
}

/** Mean of a numeric field; null for an empty window. Output column type `double`. Stored as `[sum, count]`. */
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
    serialize: (state) => [state.sum, state.count],
    deserialize: (stored) => {
      if (
        !Array.isArray(stored) ||
        stored.length !== 2 ||
        typeof stored[0] !== 'number' ||
        !Number.isFinite(stored[0]) ||
        typeof stored[1] !== 'number' ||
        !Number.isSafeInteger(stored[1]) ||
        stored[1] < 0
      ) {
        throw new StateDeserializationError(
          `avg state must be [sum, count] (given ${JSON.stringify(stored)})`,
        );
      }
      return { sum: stored[0], count: stored[1] };
    },
    result: (state) => (state.count === 0 ? null : state.sum / state.count),
  };
}
