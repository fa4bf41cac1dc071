import { stringOrNumber, type ColumnAggregate } from './columnAggregate';
import { PipelineDefinitionError, StateDeserializationError } from '../errors';

/** One monitored item of a Space-Saving summary. */
export interface TopKEntry {
  count: number;
  /** Upper bound of the overestimation of `count`. */
  error: number;
}

/** Space-Saving summary: at most `capacity` monitored items. */
export interface TopKState {
  readonly capacity: number;
  readonly items: Map<string, TopKEntry>;
}

/** One result item of {@link topK}. */
export interface TopKItem {
  readonly value: string;
  readonly count: number;
}

/** Capacity (monitored items) for a given k: 10·k, at least 64. */
export function topKCapacity(k: number): number {
  return Math.max(10 * k, 64);
}

/**
 * The `k` most frequent values (by string form) with their counts, using the Space-Saving algorithm
 * (Metwally et al. 2005) with a bounded summary of `capacity = max(10k, 64)` items, so state never grows
 * beyond that many entries. Exact while a window has at most `capacity` distinct values; beyond that each
 * reported count overestimates the true count by at most N / capacity (N = records in the window), and
 * every value with a true count above N / capacity is monitored. Merging adds counts (a value missing from
 * a full summary is charged that summary's minimum count), then keeps the top `capacity`.
 * Output column type `json`: a JSON array `[{"value": "...", "count": n}, ...]`, most frequent first,
 * ties by value.
 *
 * @example .aggregate({ top_countries: topK((e) => e.country, 3) })
 */
export function topK<T>(
  fn: (value: T) => string | number,
  k: number,
): ColumnAggregate<T, string | number, TopKState, TopKItem[]> {
  if (!Number.isInteger(k) || k < 1 || k > 1000) {
    throw new PipelineDefinitionError(
      `topK k must be an integer between 1 and 1000 inclusive (given ${String(k)})`,
    );
  }
  const capacity = topKCapacity(k);
  return {
    kind: 'topK',
    outputType: 'json',
    params: { k },
    errorBound: `Space-Saving with ${capacity} counters: exact up to ${capacity} distinct values, otherwise counts overestimate by at most N/${capacity}`,
    input: fn,
    validate: stringOrNumber,
    create: () => ({ capacity, items: new Map() }),
    add: topKAdd,
    addColumn: (state, rows, column) => {
      for (let r = 0; r < rows.length; r++) topKAdd(state, rows[r]![column] as string | number);
      return state;
    },
    merge: (state, other) => mergeTopK(state, other),
    serialize: (state) => {
      const out: [string, number, number][] = [];
      for (const [item, e] of state.items) out.push([item, e.count, e.error]);
      out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return out;
    },
    deserialize: (stored) => {
      if (!Array.isArray(stored) || stored.length > capacity) {
        throw new StateDeserializationError(`topK state must be an array of at most ${capacity} entries`);
      }
      const items = new Map<string, TopKEntry>();
      for (const e of stored) {
        if (
          !Array.isArray(e) ||
          e.length !== 3 ||
          typeof e[0] !== 'string' ||
          typeof e[1] !== 'number' ||
          typeof e[2] !== 'number' ||
          !Number.isSafeInteger(e[1]) ||
          !Number.isSafeInteger(e[2]) ||
          e[1] < 1 ||
          e[2] < 0 ||
          e[2] > e[1]
        ) {
          throw new StateDeserializationError(`topK state entry is invalid (given ${JSON.stringify(e)})`);
        }
        items.set(e[0], { count: e[1], error: e[2] });
      }
      return { capacity, items };
    },
    result: (state) => ranked(state.items).slice(0, k),
  };
}

/** Space-Saving update for one occurrence of `input`. */
function topKAdd(state: TopKState, input: string | number): TopKState {
  const item = typeof input === 'string' ? input : String(input);
  const entry = state.items.get(item);
  if (entry !== undefined) {
    entry.count++;
  } else if (state.items.size < state.capacity) {
    state.items.set(item, { count: 1, error: 0 });
  } else {
    const [minItem, minEntry] = minimum(state.items);
    state.items.delete(minItem);
    state.items.set(item, { count: minEntry.count + 1, error: minEntry.count });
  }
  return state;
}

function minimum(items: Map<string, TopKEntry>): [string, TopKEntry] {
  let best: [string, TopKEntry] | undefined;
  for (const pair of items) {
    if (
      best === undefined ||
      pair[1].count < best[1].count ||
      (pair[1].count === best[1].count && pair[0] > best[0])
    )
      best = pair;
  }
  // Only called on a full (non-empty) summary.
  return best!;
}

function ranked(items: Map<string, TopKEntry>): TopKItem[] {
  const out: TopKItem[] = [];
  for (const [value, e] of items) out.push({ value, count: e.count });
  out.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return out;
}

function mergeTopK(state: TopKState, other: TopKState): TopKState {
  if (other.items.size === 0) return state;
  const floorA = state.items.size >= state.capacity ? minimum(state.items)[1].count : 0;
  const floorB = other.items.size >= other.capacity ? minimum(other.items)[1].count : 0;
  const merged = new Map<string, TopKEntry>();
  for (const [item, a] of state.items) {
    const b = other.items.get(item);
    merged.set(
      item,
      b === undefined
        ? { count: a.count + floorB, error: a.error + floorB }
        : { count: a.count + b.count, error: a.error + b.error },
    );
  }
  for (const [item, b] of other.items) {
    if (!state.items.has(item)) merged.set(item, { count: b.count + floorA, error: b.error + floorA });
  }
  state.items.clear();
  if (merged.size <= state.capacity) {
    for (const [item, e] of merged) state.items.set(item, e);
    return state;
  }
  const entries = [...merged].sort(
    (x, y) => y[1].count - x[1].count || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0),
  );
  for (let i = 0; i < state.capacity; i++) {
    const [item, e] = entries[i]!;
    state.items.set(item, e);
  }
  return state;
}
