import type { Aggregate } from '../types';

/**
 * An {@link Aggregate} bound to a pipeline value type `T`: `input` extracts this aggregate's input from a
 * value. The engine calls `input` (and `validate`) while preparing a batch, so a user function that throws
 * or returns garbage rejects that one record instead of failing the batch; `add` then receives `In`.
 */
export interface ColumnAggregate<T, In, S, Out> extends Aggregate<In, S, Out> {
  readonly input: (value: T) => In;
  /** Returns why an extracted input is unusable (e.g. `NaN`), or undefined when it is fine. */
  validate(input: In): string | undefined;
  /**
   * Optional batch form of `add`, used by `combine`: adds `rows[r][column]` for every row in order and
   * returns the state; must leave the same state as calling `add` on each in turn. One call per
   * (window, aggregate) instead of one polymorphic `add` call per record, and a sketch can size its
   * storage once for the whole batch.
   */
  addColumn?(state: S, rows: readonly (readonly unknown[])[], column: number): S;
}

/** Any column aggregate over values of type `T` (what `.aggregate({...})` accepts). */
export type AnyColumnAggregate<T> = ColumnAggregate<T, unknown, unknown, unknown>;

/** Shared validation of numeric inputs. */
export function finiteNumber(input: unknown): string | undefined {
  return typeof input === 'number' && Number.isFinite(input)
    ? undefined
    : `expected a finite number, got ${describe(input)}`;
}

/** How a non-finite double is stored: JSON has no Infinity or NaN (`JSON.stringify(Infinity)` is `null`). */
const NON_FINITE: Readonly<Record<string, number>> = { Infinity: Infinity, '-Infinity': -Infinity, NaN: NaN };

/**
 * Stored form of a double that may have overflowed: a sum of finite inputs can reach ±Infinity (and a
 * sum of both, NaN), as SQL's SUM over DOUBLE does. Finite values stay numbers; the others become the
 * strings `Infinity`, `-Infinity`, `NaN`, which {@link loadDouble} reads back.
 */
export function storeDouble(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** Reads what {@link storeDouble} stored; undefined when `stored` is neither. */
export function loadDouble(stored: unknown): number | undefined {
  if (typeof stored === 'number') return Number.isFinite(stored) ? stored : undefined;
  return typeof stored === 'string' && Object.hasOwn(NON_FINITE, stored) ? NON_FINITE[stored] : undefined;
}

/** Shared validation of inputs that are counted by identity (distinct count, top-k). */
export function stringOrNumber(input: unknown): string | undefined {
  return typeof input === 'string' || (typeof input === 'number' && Number.isFinite(input))
    ? undefined
    : `expected a string or finite number, got ${describe(input)}`;
}

/** A short, safe description of a bad value for rejection details. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
