import { finiteNumber, loadDouble, storeDouble, type ColumnAggregate } from './columnAggregate';
import { StateDeserializationError } from '../errors';

/**
 * Sums a numeric field. Exact for integers up to 2^53; floating-point sums may differ in the last bits
 * depending on merge order. Output column type `double`; 0 for an empty window. A sum beyond the double
 * range is ±Infinity (NaN when both signs overflow), as SQL's SUM over DOUBLE gives, and is stored so.
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
    serialize: storeDouble,
    deserialize: (stored) => {
      const value = loadDouble(stored);
      if (value === undefined) {
        throw new StateDeserializationError(
          `sum state must be a number or Infinity, -Infinity, NaN (given ${JSON.stringify(stored)})`,
        );
      }
      return value;
    },
    result: (state) => state,
  };
}
