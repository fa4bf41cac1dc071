import { finiteNumber, type ColumnAggregate } from './columnAggregate';
import { StateDeserializationError } from '../errors';

/** Minimum of a numeric field; null for an empty window. Exact. Output column type `double`. */
export function min<T>(fn: (value: T) => number): ColumnAggregate<T, number, number | null, number | null> {
  return extremum('min', fn, (a, b) => (b < a ? b : a));
}

/** Shared by `min` and `max`: null is the identity. */
export function extremum<T>(
  kind: 'min' | 'max',
  fn: (value: T) => number,
  pick: (a: number, b: number) => number,
): ColumnAggregate<T, number, number | null, number | null> {
  return {
    kind,
    outputType: 'double',
    input: fn,
    validate: finiteNumber,
    create: () => null,
    // `+ 0` turns -0 into 0, which is what the JSON-stored state would read back anyway.
    add: (state, input) => (state === null ? input + 0 : pick(state, input + 0)),
    addColumn: (state, rows, column) => {
      let s = state;
      for (let r = 0; r < rows.length; r++) {
        const v = (rows[r]![column] as number) + 0;
        s = s === null ? v : pick(s, v);
      }
      return s;
    },
    merge: (state, other) => (state === null ? other : other === null ? state : pick(state, other)),
    serialize: (state) => state,
    deserialize: (stored) => {
      if (stored !== null && (typeof stored !== 'number' || !Number.isFinite(stored))) {
        throw new StateDeserializationError(
          `${kind} state must be a finite number or null (given ${JSON.stringify(stored)})`,
        );
      }
      return stored;
    },
    result: (state) => state,
  };
}
