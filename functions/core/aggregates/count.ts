import type { ColumnAggregate } from './columnAggregate';
import { StateDeserializationError } from '../errors';

/**
 * Counts records, or only those for which `predicate` returns true. Exact. Output column type `bigint`
 * (the result is a safe-integer JS number).
 *
 * @example .aggregate({ events: count(), purchases: count((e) => e.action === 'purchase') })
 */
export function count<T>(predicate?: (value: T) => boolean): ColumnAggregate<T, boolean, number, number> {
  return {
    kind: 'count',
    outputType: 'bigint',
    input: predicate === undefined ? () => true : (value) => predicate(value),
    validate: (input) => (typeof input === 'boolean' ? undefined : `count predicate must return a boolean`),
    create: () => 0,
    add: (state, input) => (input ? state + 1 : state),
    addColumn: (state, rows, column) => {
      let n = state;
      for (let r = 0; r < rows.length; r++) if (rows[r]![column] as boolean) n++;
      return n;
    },
    merge: (state, other) => state + other,
    serialize: (state) => state,
    deserialize: (stored) => {
      if (typeof stored !== 'number' || !Number.isSafeInteger(stored) || stored < 0) {
        throw new StateDeserializationError(
          `count state must be a non-negative integer (given ${JSON.stringify(stored)})`,
        );
      }
      return stored;
    },
    result: (state) => state,
  };
}
