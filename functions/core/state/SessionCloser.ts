/**
 * The close pass of session pipelines (DESIGN.md §3): sessions are merged per key across batches and
 * shards from the fragments the commits stored (each under the bucket of `gap` it starts in), and a session
 * is emitted once every shard's close mark in window ends (`closedEnd`, `closeableThrough.ts`) passes its
 * end plus the gap (under one allowed lateness: once the shards' marks pass its end plus the gap plus it).
 *
 * Why that is final: a record at `t` is late for a shard once `t + gap + lateness ≤` its mark, once
 * `t + gap ≤` its mark in window ends (`closedEnd`), or once `t + gap ≤ emittedEnd` (`lateMark`, whatever
 * the lateness is now); a record that is not late therefore has
 * `t > end` of every session emitted before, and cannot touch it (a record joins a session when `t ≤ end`).
 * Each pass emits the sessions not emitted yet (`end + gap > emittedEnd`: `emittedEndOf`) whose end plus
 * the gap is at or below the mark, one object per hour partition of their starts, named by the pass's
 * `emittedEnd` (`sessionObjectNames.ts`): a retried pass (the mark may have moved on) writes a superset under the same names. It then
 * publishes the emitted rows (`.sink({ toStream })`: ids `<table>/<session start>/<key>`, so a retried pass
 * publishes a session under the same id), then raises `emittedThrough` to the mark under its lateness, `emittedEnd` to the mark, and `sessionFloor` to
 * the earliest start a session still to emit (or a new record) can have, so shards drop the buckets before
 * it.
 */
import { compareKeys } from '../keyOrder';
import type { EpochMillis, Json, ResultRow, WindowBounds } from '../types';
import { mapWithConcurrency } from './concurrency';
import { hivePartition, resultPartitionObjectKey } from './paths';
import { decodeSegment } from './segmentCodec';
import type {
  KeyPartial,
  ObjectStore,
  ProgressSnapshot,
  ResultEncoder,
  StatefulPipeline,
  StateStore,
} from './types';
import { closeableEnd, closeableThrough, raiseClosedMarks } from './closeableThrough';
import type { EmittedRow, ResultPublishing } from './resultPublishing';
import { emittedEndOf } from './pendingWindows';
import { missingColumns, StateShapeGuard } from './stateShapeGuard';
import { InvalidOptionError } from '../errors';
import { sessionObjectName } from './sessionObjectNames';

/** Settings of a {@link SessionCloser}. */
export interface SessionCloserOptions {
  readonly concurrency: number;
  readonly expectedShards: number;
}

interface Dependencies {
  readonly pipeline: StatefulPipeline;
  readonly store: StateStore;
  readonly objects: ObjectStore;
  readonly encoder: ResultEncoder;
  /** Publishes the result rows (`.sink({ toStream })`); given when the sink has a stream. */
  readonly results?: Pick<ResultPublishing, 'publish'> | undefined;
}

/** One key's session, merged from its fragments. */
export interface MergedSession {
  readonly key: string;
  readonly window: WindowBounds;
  readonly records: number;
  readonly state: Readonly<Record<string, Json>>;
  /** Aggregate columns of `columns` some fragment lacks (written before a deploy added them). */
  readonly evolved?: readonly string[];
}

/**
 * Merges session fragments per key: fragments that overlap or touch join, transitively. Fragments are
 * merged in start order (then in the order given), so the same fragments give the same states.
 */
export function mergeFragments(
  fragments: readonly KeyPartial[],
  mergeState: (a: Readonly<Record<string, Json>>, b: Readonly<Record<string, Json>>) => Record<string, Json>,
  columns: readonly string[] = [],
): MergedSession[] {
  const byKey = new Map<string, KeyPartial[]>();
  for (const fragment of fragments) {
    if (fragment.session === undefined) continue;
    const list = byKey.get(fragment.key);
    if (list === undefined) byKey.set(fragment.key, [fragment]);
    else list.push(fragment);
  }
  const out: MergedSession[] = [];
  for (const [key, list] of byKey) {
    const sorted = list
      .map((f, i) => ({ f, i }))
      .sort((a, b) => a.f.session!.start - b.f.session!.start || a.i - b.i);
    let current:
      | {
          window: { start: number; end: number };
          records: number;
          state: Readonly<Record<string, Json>>;
          evolved: Set<string> | undefined;
        }
      | undefined;
    const finish = (): void => {
      if (current === undefined) return;
      const { evolved, ...rest } = current;
      out.push({ key, ...rest, ...(evolved === undefined ? {} : { evolved: [...evolved] }) });
    };
    for (const { f } of sorted) {
      const session = f.session!;
      if (current !== undefined && session.start <= current.window.end) {
        current.window.end = Math.max(current.window.end, session.end);
        current.records += f.records;
        current.state = mergeState(current.state, f.state);
        current.evolved = missingColumns(columns, f.state, current.evolved);
      } else {
        finish();
        current = {
          window: { ...session },
          records: f.records,
          state: f.state,
          evolved: missingColumns(columns, f.state, undefined),
        };
      }
    }
    finish();
  }
  return out;
}

export class SessionCloser {
  readonly #deps: Dependencies;
  readonly #options: SessionCloserOptions;
  readonly #name: string;
  readonly #gap: number;
  readonly #lateness: number;
  readonly #shapes: StateShapeGuard;

  public constructor(deps: Dependencies, options: SessionCloserOptions) {
    const window = deps.pipeline.spec.window;
    if (window?.kind !== 'session' || deps.pipeline.spec.sink === undefined)
      throw new InvalidOptionError('SessionCloser closes session windows only');
    this.#deps = deps;
    this.#options = options;
    this.#name = deps.pipeline.spec.name;
    this.#gap = window.gapMs;
    this.#lateness = deps.pipeline.spec.time.allowedLatenessMs;
    this.#shapes = new StateShapeGuard(deps);
  }

  /** When a session closes: its end (last record + gap) plus the gap plus the allowed lateness. */
  public closeTime(session: WindowBounds): EpochMillis {
    return session.end + this.#gap + this.#lateness;
  }

  /**
   * Whether a pass could emit something (no read): a fragment starting in a pending bucket closes at the
   * earliest at the bucket's start plus twice the gap plus the lateness.
   */
  public dueIn(snapshot: ProgressSnapshot, endOfInput = false): boolean {
    // In window ends (`closeableThrough.ts`): a session's end plus the gap is compared with it.
    const closeable = closeableEnd(
      snapshot.shards,
      this.#lateness,
      endOfInput ? 0 : this.#options.expectedShards,
    );
    if (!(closeable > emittedEndOf(snapshot.pipeline, this.#lateness))) return false;
    const floor = snapshot.pipeline?.sessionFloor ?? -Infinity;
    return snapshot.shards.some((shard) =>
      shard.pending.some((bucket) => bucket.end > floor && bucket.start + 2 * this.#gap <= closeable),
    );
  }

  /**
   * Emits the sessions due at `snapshot`; returns how many. A pass that emitted through another pass's lower
   * claim, or found its view stale, runs again from the stored state, so that on return every session due at
   * this caller's marks is emitted (the end of input's pass relies on it).
   */
  public async close(snapshot: ProgressSnapshot, endOfInput = false): Promise<number> {
    let emitted = 0;
    let current = snapshot;
    for (;;) {
      const before = emittedEndOf(current.pipeline, this.#lateness);
      const pass = await this.#pass(current, endOfInput);
      emitted += pass.emitted;
      if (!pass.again) return emitted;
      current = await this.#deps.store.readProgress(this.#name);
      // Again only while `emittedEnd` rises (a claim left by a dead pass, or one keyed under another
      // lateness, must not make every pass spin): the next tick tries again.
      if (!(emittedEndOf(current.pipeline, this.#lateness) > before)) return emitted;
    }
  }

  /** One close pass; `again` when it emitted less than its own marks allow (see `close`). */
  async #pass(
    snapshot: ProgressSnapshot,
    endOfInput: boolean,
  ): Promise<{ readonly emitted: number; readonly again: boolean }> {
    const { store } = this.#deps;
    const expected = endOfInput ? 0 : this.#options.expectedShards;
    if (!this.dueIn(snapshot, endOfInput)) return { emitted: 0, again: false };
    let closeable = closeableEnd(snapshot.shards, this.#lateness, expected);
    let current = snapshot;
    if (await raiseClosedMarks(store, this.#name, current, this.#lateness, expected)) {
      current = await store.readProgress(this.#name);
      closeable = Math.min(closeable, closeableEnd(current.shards, this.#lateness, expected));
    }
    const emitted = emittedEndOf(current.pipeline, this.#lateness);
    if (!(closeable > emitted)) return { emitted: 0, again: false };
    // Every pass above `emitted` writes under the same names: they must all emit the same sessions, or a pass
    // with an older view of the shards could overwrite another's objects with fewer sessions after that one
    // raised `emittedEnd` past them. The first pass to claim `emitted` fixes the emitted end every pass above
    // it emits through (an end, not a mark: passes running with another allowed lateness emit the same rows).
    const name = sessionObjectName(current.pipeline);
    const ownEnd = closeable;
    const claimed = await store.claimSessionPass(this.#name, emitted, ownEnd);
    // A pass above a later emitted end has claimed: this view is stale.
    if (claimed === undefined) return { emitted: 0, again: true };
    let end = ownEnd;
    if (claimed !== ownEnd) {
      // Through another pass's end: read at least as late as that pass did (the closed watermark it raised
      // first covers it), so no fragment of a session it emits is missing here; if it has finished (raised
      // `emittedEnd`), its objects are written and shards may have dropped their buckets: nothing to do here.
      current = await store.readProgress(this.#name);
      if (emittedEndOf(current.pipeline, this.#lateness) !== emitted) return { emitted: 0, again: true };
      end = claimed;
    }
    const sessions = mergeFragments(
      await this.#readFragments(current),
      (a, b) => this.#deps.pipeline.mergeState(a, b),
      this.#deps.pipeline.stateShape.aggregates.map((a) => a.column),
    );
    const due = sessions.filter((s) => s.window.end + this.#gap > emitted && s.window.end + this.#gap <= end);
    const open = sessions.filter((s) => s.window.end + this.#gap > end);
    const byPartition = new Map<string, MergedSession[]>();
    for (const session of due) {
      const partition = hivePartition(session.window.start);
      const list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, [session]);
      else list.push(session);
    }
    const rows = await mapWithConcurrency([...byPartition.values()], this.#options.concurrency, (list) =>
      this.#emit(list, name),
    );
    await this.#deps.results?.publish(rows.flat());
    // No session still to emit starts before the earliest open one, and no record that is not late can
    // start a fragment before `end − gap`.
    const floor = Math.min(end - this.#gap, ...open.map((s) => s.window.start));
    await store.raisePipeline(this.#name, {
      // This definition's mark for that end, never above what this pass saw closed (an end claimed under a
      // shorter lateness).
      emittedThrough: Math.min(
        end + this.#lateness,
        Math.max(closeableThrough(current.shards, expected), end),
      ),
      emittedEnd: end,
      // Only when it rises: the marks are raised in one conditional update when each is below its value.
      ...(floor > (current.pipeline?.sessionFloor ?? -Infinity) ? { sessionFloor: floor } : {}),
    });
    return { emitted: due.length, again: end < ownEnd };
  }

  /** Every fragment of the buckets still pending on any shard, reading each shard's segments once. */
  async #readFragments(snapshot: ProgressSnapshot): Promise<KeyPartial[]> {
    const floor = snapshot.pipeline?.sessionFloor ?? -Infinity;
    const ranges = snapshot.shards
      .map((shard) => {
        const live = shard.pending.filter((bucket) => bucket.end > floor);
        return {
          shard,
          shardId: shard.shardId,
          live,
          from: Math.min(...live.map((b) => b.firstCommit)),
          to: Math.max(...live.map((b) => b.lastCommit)),
        };
      })
      .filter((r) => r.live.length > 0)
      .sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
    const perShard = await mapWithConcurrency(ranges, this.#options.concurrency, (range) =>
      this.#deps.store.readSegments(range.shard, range.from, range.to),
    );
    const fragments: KeyPartial[] = [];
    for (const segments of perShard) {
      for (const segment of segments) {
        this.#shapes.admit(segment, snapshot);
        for (const contribution of decodeSegment(segment.body).windows) {
          if (contribution.window.end > floor) fragments.push(...contribution.partials);
        }
      }
    }
    return fragments;
  }

  /** One object: the pass's sessions starting in one hour partition, rows sorted by key then start; returns the rows. */
  async #emit(sessions: readonly MergedSession[], name: string): Promise<EmittedRow[]> {
    const { pipeline, objects, encoder } = this.#deps;
    const sorted = [...sessions].sort((a, b) => compareKeys(a.key, b.key) || a.window.start - b.window.start);
    const rows: ResultRow[] = sorted.map((s) =>
      pipeline.resultRow(s.key, s.window, s.state, s.records, s.evolved ?? []),
    );
    const first = sorted[0]!.window.start;
    const key = resultPartitionObjectKey(pipeline.spec.sink!.table, first, name, encoder.extension);
    await objects.putObject(key, encoder.encode(pipeline.spec.columns, rows), encoder.contentType);
    return rows.map((row, i) => ({ key: sorted[i]!.key, window: sorted[i]!.window, row }));
  }
}
