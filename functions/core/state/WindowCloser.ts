/**
 * The close pass (DESIGN.md §3): emits every window that no shard can add to any more, one Parquet object
 * per window holding every key's row, sorted by key, under a deterministic name.
 *
 *   1. Windows are due when they are not emitted (their end is above the pipeline's `emittedEnd`:
 *      `emittedEndOf`) and their end is at or below every shard's close mark in window ends (`closedEnd`,
 *      `closeableThrough.ts`): every shard has closed them, under whatever allowed lateness it committed.
 *   2. The pipeline's `closedWatermark` and `closedEnd` are raised to the lowest shard marks first, and
 *      progress read again, so a shard that commits for the first time (starting from them) is either in
 *      the new read or cannot add to a due window.
 *   3. Each shard's segments holding due windows are read once; each window's partials are merged per key
 *      in a fixed order (shard, commit), so a retried pass writes the same bytes to the same object. A
 *      segment whose state shape the running definition cannot read is refused (`StateShapeGuard`): the
 *      pass fails with `IncompatibleStateError` and emits nothing.
 *   4. With `.sink({ toStream })`, every emitted row is published (`ResultPublishing`: ids
 *      `<table>/<window start>/<key>`; a row over the record limit dead-lettered to `rejected-results/<table>/`), after
 *      the objects are written and before the marks are raised past its window.
 *   5. `emittedThrough` and `emittedEnd` are raised past the emitted windows (with a stream, after each run of
 *      about `PUBLISH_ROWS_PER_MARK` published rows). A crash at any step is finished by the next pass, which
 *      writes the same objects again and publishes the same rows under the same ids.
 */
import { compareKeys } from '../keyOrder';
import { InvalidOptionError } from '../errors';
import type { EpochMillis, Json, ResultRow, WindowBounds } from '../types';
import { mapWithConcurrency } from './concurrency';
import { windowId } from './keys';
import { resultObjectKey } from './paths';
import { dueWindows, emittedEndOf, type DueWindow } from './pendingWindows';
import { decodeSegment } from './segmentCodec';
import type {
  KeyPartial,
  ObjectStore,
  ProgressSnapshot,
  ResultEncoder,
  StatefulPipeline,
  StateStore,
} from './types';
import { closeableEnd, raiseClosedMarks } from './closeableThrough';
import type { EmittedRow, ResultPublishing } from './resultPublishing';
import { missingColumns, StateShapeGuard } from './stateShapeGuard';

/**
 * Rows a close pass publishes (`.sink({ toStream })`) before it raises its marks: about five seconds of a
 * stream shard's 1,000 records a second.
 */
export const PUBLISH_ROWS_PER_MARK = 5_000;

/** Settings of a {@link WindowCloser}. */
export interface WindowCloserOptions {
  /** Windows emitted per pass; the rest are left for the next pass. */
  readonly maxEmitPerPass: number;
  /** Reads and writes in flight at once. */
  readonly concurrency: number;
  /** Provisioned shard count: nothing closes until that many shards are known. */
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

/** Per key, the merged state of one window. */
interface Merged {
  records: number;
  state: Readonly<Record<string, Json>>;
  /** Aggregate columns some partial lacks (written before a deploy added them). */
  evolved: Set<string> | undefined;
}

export class WindowCloser {
  readonly #deps: Dependencies;
  readonly #options: WindowCloserOptions;
  readonly #name: string;
  readonly #closeTime: (window: WindowBounds) => EpochMillis;
  readonly #lateness: number;
  readonly #shapes: StateShapeGuard;
  readonly #columns: readonly string[];

  public constructor(deps: Dependencies, options: WindowCloserOptions) {
    if (deps.pipeline.spec.window === undefined || deps.pipeline.spec.sink === undefined)
      throw new InvalidOptionError('WindowCloser closes the windows of a pipeline with a result table');
    this.#deps = deps;
    this.#shapes = new StateShapeGuard(deps);
    this.#columns = deps.pipeline.stateShape.aggregates.map((a) => a.column);
    this.#options = options;
    this.#name = deps.pipeline.spec.name;
    this.#closeTime = (window) => deps.pipeline.closeTime(window);
    this.#lateness = deps.pipeline.spec.time.allowedLatenessMs;
  }

  /** Windows the snapshot says are due now (a cheap check before a pass: no read). */
  public dueIn(snapshot: ProgressSnapshot): boolean {
    const emitted = emittedEndOf(snapshot.pipeline, this.#lateness);
    const closeable = closeableEnd(snapshot.shards, this.#lateness, this.#options.expectedShards);
    return dueWindows(snapshot.shards, emitted, closeable, this.#closeTime, 1).length > 0;
  }

  /**
   * Emits what is due at `snapshot`; returns the number of windows emitted. `endOfInput` (bounded input):
   * no shard is still to come, so the provisioned shard count is not waited for.
   */
  public async close(snapshot: ProgressSnapshot, endOfInput = false): Promise<number> {
    const { store } = this.#deps;
    const expected = endOfInput ? 0 : this.#options.expectedShards;
    let closeable = closeableEnd(snapshot.shards, this.#lateness, expected);
    let current = snapshot;
    let due = this.#due(current, closeable);
    if (due.length === 0) return 0;
    if (await raiseClosedMarks(store, this.#name, current, this.#lateness, expected)) {
      current = await store.readProgress(this.#name);
      closeable = Math.min(closeable, closeableEnd(current.shards, this.#lateness, expected));
      due = this.#due(current, closeable);
      if (due.length === 0) return 0;
    }
    const partials = await this.#readPartials(current, due);
    const emitted = await mapWithConcurrency(due, this.#options.concurrency, (window) =>
      this.#emit(window.window, partials.get(windowId(window.window)) ?? []),
    );
    const results = this.#deps.results;
    if (results === undefined) {
      const last = due[due.length - 1]!;
      await store.raisePipeline(this.#name, { emittedThrough: last.closeAt, emittedEnd: last.window.end });
      return due.length;
    }
    // Published in runs of whole window ends of about PUBLISH_ROWS_PER_MARK rows, the marks raised after
    // each: a pass that fails midway (its stream refusing) keeps what it published, so a backlog larger than
    // one pass can publish still moves on from pass to pass.
    let rows: EmittedRow[] = [];
    for (let i = 0; i < due.length; i++) {
      // Not `push(...)`: a window of many keys would overflow the call stack.
      for (const row of emitted[i]!) rows.push(row);
      const window = due[i]!;
      const last = i === due.length - 1;
      if (!last && (rows.length < PUBLISH_ROWS_PER_MARK || due[i + 1]!.window.end === window.window.end))
        continue;
      await results.publish(rows);
      rows = [];
      await store.raisePipeline(this.#name, {
        emittedThrough: window.closeAt,
        emittedEnd: window.window.end,
      });
    }
    return due.length;
  }

  #due(snapshot: ProgressSnapshot, closeable: EpochMillis): DueWindow[] {
    const emitted = emittedEndOf(snapshot.pipeline, this.#lateness);
    return dueWindows(snapshot.shards, emitted, closeable, this.#closeTime, this.#options.maxEmitPerPass);
  }

  /** Every due window's partials, in shard then commit order, reading each shard's segments once. */
  async #readPartials(
    snapshot: ProgressSnapshot,
    due: readonly DueWindow[],
  ): Promise<Map<string, KeyPartial[]>> {
    const ranges = new Map<string, { from: number; to: number }>();
    for (const window of due) {
      for (const [shardId, range] of window.commits) {
        const known = ranges.get(shardId);
        ranges.set(
          shardId,
          known === undefined
            ? { ...range }
            : { from: Math.min(known.from, range.from), to: Math.max(known.to, range.to) },
        );
      }
    }
    const wanted = new Set(due.map((w) => windowId(w.window)));
    const shards = [...ranges.keys()].sort();
    const perShard = await mapWithConcurrency(shards, this.#options.concurrency, async (shardId) => {
      const range = ranges.get(shardId)!;
      const progress = snapshot.shards.find((shard) => shard.shardId === shardId);
      return progress === undefined ? [] : this.#deps.store.readSegments(progress, range.from, range.to);
    });
    const partials = new Map<string, KeyPartial[]>();
    for (const segments of perShard) {
      for (const segment of segments) {
        this.#shapes.admit(segment, snapshot);
        for (const contribution of decodeSegment(segment.body).windows) {
          const id = windowId(contribution.window);
          if (!wanted.has(id)) continue;
          let list = partials.get(id);
          if (list === undefined) partials.set(id, (list = []));
          list.push(...contribution.partials);
        }
      }
    }
    return partials;
  }

  /** Writes one window's object: every key's merged state as a row, rows sorted by key; returns the rows. */
  async #emit(window: WindowBounds, partials: readonly KeyPartial[]): Promise<EmittedRow[]> {
    const { pipeline, objects, encoder } = this.#deps;
    const byKey = new Map<string, Merged>();
    for (const partial of partials) {
      const merged = byKey.get(partial.key);
      if (merged === undefined)
        byKey.set(partial.key, {
          records: partial.records,
          state: partial.state,
          evolved: missingColumns(this.#columns, partial.state, undefined),
        });
      else
        byKey.set(partial.key, {
          records: merged.records + partial.records,
          state: pipeline.mergeState(merged.state, partial.state),
          evolved: missingColumns(this.#columns, partial.state, merged.evolved),
        });
    }
    const keys = [...byKey.keys()].sort(compareKeys);
    const rows: ResultRow[] = keys.map((key) => {
      const merged = byKey.get(key)!;
      return pipeline.resultRow(key, window, merged.state, merged.records, [...(merged.evolved ?? [])]);
    });
    await objects.putObject(
      resultObjectKey(pipeline.spec.sink!.table, window, encoder.extension),
      encoder.encode(pipeline.spec.columns, rows),
      encoder.contentType,
    );
    return rows.map((row, i) => ({ key: keys[i]!, window, row }));
  }
}
