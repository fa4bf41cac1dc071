import { finiteNumber, type ColumnAggregate } from './columnAggregate';
import { StateDeserializationError } from '../errors';

/**
 * Sums a numeric field. Exact for integers up to 2^53; floating-point sums may differ in the last bits
 * depending on merge order. Output column type `double`; 0 for an empty window.
 *
 * @example .aggregate({ revenue: sum((e) => e.revenue) })
 */
export function sum<T>(fn: (value: T) => number): ColumnAggregate<T, number, number, number> {
  return {
    kind: 'sum',
    outputType: 'double',
    input: fn,
    validate: finiteNumber,
    create: () => 0,
    add: (state, input) => state + input,
    addColumn: (state, rows, column) => {
      // Same left-to-right order as repeated `add`, so the same floating-point result.
      let s = state;
      for (let r = 0; r < rows.length; r++) s += rows[r]![column] as number;
      return s;
    },
    merge: (state, other) => state + other,
    serialize: (state) => state,
    deserialize: (stored) => {
      if (typeof stored !== 'number' || !Number.isFinite(stored)) {
        throw new StateDeserializationError(
          `sum state must be a finite number (given ${JSON.stringify(stored)})`,
        );
      }
      return stored;
    },
    result: (state) => state,
  };
}
