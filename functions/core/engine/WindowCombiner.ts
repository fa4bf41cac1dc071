/**
 * Stage 4: combine a prepared batch into one partial per (key, window) it touches — fences and dedupe ids
 * checked, aggregates added column by column — and merge stored states.
 */
import { StateDeserializationError } from '../errors';
import * as sequences from '../sequence';
import { padSequence } from '../sequence';
import type { AnyColumnAggregate } from '../aggregates/columnAggregate';
import type { EpochMillis, Fence, Json, WindowBounds, WindowPartial } from '../types';
import type { BatchOutput } from './batchOutput';
import { ElementRouter } from './ElementRouter';
import { fixedGroupsOf, indexFixedGroups, sessionGroups } from './grouping';
import type {
  CombineStats,
  FenceLookup,
  PreparedBatch,
  RoutedElement,
  SeenIdsLookup,
  ShardBatchSummary,
} from './types';

const { sequenceGreater } = sequences;

export abstract class WindowCombiner extends ElementRouter {
  /**
   * The batch's first element of each dedupe id (of its shard; see `isLaterCopy`). A new Map for each batch,
   * not one long-lived Map cleared (`batchObjects.ts`): V8 allocates the tables of a Map that lives in the
   * old generation there too each time it grows, and a dead old table keeps the batch's elements alive
   * through young collections (~3.5 MB promoted per young collection without this, with the rest of
   * `batchObjects.ts`'s rule applied). None between batches.
   */
  #firstCopies: Map<string, RoutedElement> | undefined;
  /** First copies of ids another shard of the batch holds too, by shard and id (a bounded run's batch). */
  #otherShards: Map<string, RoutedElement> | undefined;

  public combine(
    prepared: PreparedBatch,
    fence: FenceLookup,
    seenIds?: SeenIdsLookup,
    stats?: CombineStats,
  ): WindowPartial[] {
    this.#firstCopies = new Map();
    this.#otherShards = undefined;
    try {
      return this.spec.window?.kind === 'session'
        ? this.combineSessions(prepared, fence, seenIds, stats)
        : this.combineFixed(prepared, fence, seenIds, stats);
    } finally {
      this.#firstCopies = undefined;
      this.#otherShards = undefined;
    }
  }

  /**
   * Whether `el` is a later copy, in this batch, of a dedupe id an earlier element of its shard holds,
   * whatever its key or window: dropped as a duplicate, as a copy in a later batch is (`seenIds` names every
   * id its shard applied). So rows do not depend on where batches are cut (review: a producer retry
   * re-stamped into the next minute counted once across batches and twice within one). The same element in
   * several (sliding) windows is one copy.
   */
  protected isLaterCopy(el: RoutedElement): boolean {
    const id = el.dedupeId!;
    const copies = this.#firstCopies!;
    const first = copies.get(id);
    if (first === undefined) {
      copies.set(id, el);
      return false;
    }
    if (first === el) return false;
    if (first.shardId === el.shardId) return true;
    // Ids are per shard: another shard's copy is a record of its own.
    const key = `${el.shardId}\u0000${id}`;
    const others = (this.#otherShards ??= new Map());
    const own = others.get(key);
    if (own === undefined) {
      others.set(key, el);
      return false;
    }
    return own !== el;
  }

  public mergeState(
    a: Readonly<Record<string, Json>>,
    b: Readonly<Record<string, Json>>,
  ): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (let i = 0; i < this.aggs.length; i++) {
      const agg = this.aggs[i]!;
      const col = this.columns[i]!;
      const sa = a[col];
      const sb = b[col];
      if (sa === undefined && sb === undefined) continue;
      const merged = agg.merge(this.load(agg, col, sa), this.load(agg, col, sb));
      out[col] = agg.serialize(merged);
    }
    return out;
  }

  protected load(agg: AnyColumnAggregate<unknown>, col: string, stored: Json | undefined): unknown {
    if (stored === undefined) return agg.create();
    try {
      return agg.deserialize(stored);
    } catch (err) {
      if (err instanceof StateDeserializationError)
        throw new StateDeserializationError(`column ${col}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  protected finish(out: BatchOutput): PreparedBatch {
    const shards: Record<string, ShardBatchSummary> = {};
    for (const [id, s] of out.shards)
      shards[id] = {
        maxEventTime: s.maxEventTime,
        lastSequence: padSequence(s.lastSequence),
        records: s.records,
      };
    const operators: [number, number][] = [];
    for (let i = 0; i < out.operators.length; i += 2)
      operators.push([out.operators[i]!, out.operators[i + 1]!]);
    const common = {
      operators,
      rejected: out.rejected,
      late: out.late,
      cleaned: out.cleaned,
      published: out.published,
      shards,
      elements: out.elements,
    };
    if (this.spec.window?.kind === 'session') return { groups: sessionGroups(out.elements), ...common };
    return { groups: indexFixedGroups(out.elements).groups, ...common };
  }

  protected combineFixed(
    prepared: PreparedBatch,
    fence: FenceLookup,
    seenIds: SeenIdsLookup | undefined,
    stats: CombineStats | undefined,
  ): WindowPartial[] {
    // prepare numbered the (key, window) groups; each (element, window) pair carries its group's index,
    // so the accumulators are an array (created on first use, in first-appearance order as before).
    // The index is only valid for the very elements array prepare numbered (a caller may pass a copy of
    // the batch with other elements): otherwise number the groups again.
    const { groups, elementGroups } = fixedGroupsOf(prepared.elements);
    const accs = new Array<Accumulator | undefined>(groups.length);
    const all: Accumulator[] = [];
    const elements = prepared.elements;
    let pair = 0;
    for (let e = 0; e < elements.length; e++) {
      const el = elements[e]!;
      for (let w = 0; w < el.windows.length; w++) {
        const g = elementGroups[pair++]!;
        let acc = accs[g];
        if (acc === undefined) {
          const window = el.windows[w]!;
          acc = this.newAccumulator(el.key, window, fence(el.key, window), seenIds?.(el.key, window));
          accs[g] = acc;
          all.push(acc);
        }
        // A record in several (sliding) windows counts as one duplicate: in its first window.
        if (this.accumulate(acc, el) && w === 0 && stats !== undefined) stats.duplicates++;
      }
    }
    this.addRows(all);
    return this.partials(all);
  }

  protected combineSessions(
    prepared: PreparedBatch,
    fence: FenceLookup,
    seenIds: SeenIdsLookup | undefined,
    stats: CombineStats | undefined,
  ): WindowPartial[] {
    const gap = (this.spec.window as { gapMs: number }).gapMs;
    const byKey = new Map<string, RoutedElement[]>();
    for (const el of prepared.elements) {
      const w = el.windows[0]!;
      const f = fence(el.key, w);
      if (f !== undefined && isFenced(f, el)) continue;
      // A copy dropped here opens and stretches no session.
      if (
        el.dedupeId !== undefined &&
        (seenIds?.(el.key, w)?.has(el.dedupeId) === true || this.isLaterCopy(el))
      ) {
        if (stats !== undefined) stats.duplicates++;
        continue;
      }
      const list = byKey.get(el.key);
      if (list === undefined) byKey.set(el.key, [el]);
      else list.push(el);
    }
    const out: Accumulator[] = [];
    for (const [key, list] of byKey) {
      list.sort((a, b) => a.eventTime - b.eventTime);
      let acc: Accumulator | undefined;
      for (const el of list) {
        if (acc === undefined || el.eventTime > acc.end) {
          acc = this.newAccumulator(
            key,
            { start: el.eventTime, end: el.eventTime + gap },
            undefined,
            undefined,
          );
          out.push(acc);
        }
        if (el.eventTime + gap > acc.end) acc.end = el.eventTime + gap;
        if (this.accumulate(acc, el) && stats !== undefined) stats.duplicates++;
      }
    }
    this.addRows(out);
    return this.partials(out);
  }

  protected newAccumulator(
    key: string,
    window: WindowBounds,
    fence: Fence | undefined,
    seen: ReadonlySet<string> | undefined,
  ): Accumulator {
    const states = new Array<unknown>(this.aggs.length);
    for (let i = 0; i < this.aggs.length; i++) states[i] = this.aggs[i]!.create();
    return {
      key,
      start: window.start,
      end: window.end,
      fence,
      seen,
      states,
      rows: [],
      records: 0,
      shardIds: [],
      shardMax: [],
      ids: undefined,
    };
  }

  /**
   * Adds `el` to `acc` unless fenced or a duplicate; true when it was dropped as a duplicate. A dropped
   * duplicate still moves the window's fence: a redelivery then skips it as handled, instead of judging it
   * again (it could be late by then).
   */
  protected accumulate(acc: Accumulator, el: RoutedElement): boolean {
    if (acc.fence !== undefined && isFenced(acc.fence, el)) return false;
    if (el.dedupeId !== undefined) {
      if (acc.seen?.has(el.dedupeId) === true || this.isLaterCopy(el)) return this.advanceFence(acc, el);
      // Each id once per window: only its first copy of the batch gets here.
      (acc.ids ??= []).push(el.dedupeId);
    }
    // Aggregation itself happens column by column in addRows, once the window's rows are known.
    acc.rows.push(el.inputs);
    acc.records++;
    this.advanceFence(acc, el);
    return false;
  }

  /** Raises `acc`'s highest sequence number of `el`'s shard to `el`'s; returns true (for `accumulate`). */
  protected advanceFence(acc: Accumulator, el: RoutedElement): true {
    // A window sees one or two shards: a short array scan instead of a keyed (megamorphic) property access.
    const shardIds = acc.shardIds;
    let j = 0;
    while (j < shardIds.length && shardIds[j] !== el.shardId) j++;
    if (j === shardIds.length) {
      shardIds.push(el.shardId);
      acc.shardMax.push(el.sequence);
    } else if (sequenceGreater(el.sequence, acc.shardMax[j]!)) {
      acc.shardMax[j] = el.sequence;
    }
    return true;
  }

  /**
   * Adds every accumulator's accepted rows into its states, one aggregate (column) at a time: one
   * `addColumn` call per (window, aggregate) instead of one polymorphic `add` per record and aggregate.
   * Per aggregate the rows are added in element order, as record-by-record `add` would.
   */
  protected addRows(accs: readonly Accumulator[]): void {
    const aggs = this.aggs;
    for (let a = 0; a < accs.length; a++) {
      const acc = accs[a]!;
      const rows = acc.rows;
      if (rows.length === 0) continue;
      for (let i = 0; i < aggs.length; i++) {
        const agg = aggs[i]!;
        if (agg.addColumn !== undefined) {
          acc.states[i] = agg.addColumn(acc.states[i], rows, i);
        } else {
          let state = acc.states[i];
          for (let r = 0; r < rows.length; r++) state = agg.add(state, rows[r]![i]);
          acc.states[i] = state;
        }
      }
      rows.length = 0;
    }
  }

  protected partials(accs: Iterable<Accumulator>): WindowPartial[] {
    const out: WindowPartial[] = [];
    for (const acc of accs) {
      // Without records, a partial only carries the fence over the duplicates it dropped.
      if (acc.records === 0 && acc.shardIds.length === 0) continue;
      const state: Record<string, Json> = {};
      for (let i = 0; i < this.aggs.length; i++)
        state[this.columns[i]!] = this.aggs[i]!.serialize(acc.states[i]);
      const maxSequence: Record<string, string> = {};
      for (let j = 0; j < acc.shardIds.length; j++)
        maxSequence[acc.shardIds[j]!] = padSequence(acc.shardMax[j]!);
      const partial = {
        key: acc.key,
        window: { start: acc.start, end: acc.end },
        state,
        records: acc.records,
        maxSequence,
      };
      out.push(acc.ids === undefined ? partial : { ...partial, dedupeIds: acc.ids });
    }
    return out;
  }
}

interface Accumulator {
  readonly key: string;
  readonly start: EpochMillis;
  end: EpochMillis;
  readonly fence: Fence | undefined;
  readonly seen: ReadonlySet<string> | undefined;
  readonly states: unknown[];
  /** Aggregate inputs of the accepted elements, not yet added to `states` (see `addRows`). */
  readonly rows: (readonly unknown[])[];
  records: number;
  /** Shards that contributed, in first-contribution order, and the highest (normalised) sequence of each. */
  readonly shardIds: string[];
  readonly shardMax: string[];
  ids: string[] | undefined;
}

/** The fence holds padded sequence numbers; elements carry normalised ones (padded only when fenced). */
function isFenced(fence: Fence, el: RoutedElement): boolean {
  const f = fence[el.shardId];
  return f !== undefined && padSequence(el.sequence) <= f;
}
