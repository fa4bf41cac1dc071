/**
 * The pending-window list of a shard's progress item: which windows the shard has committed partials to
 * that are not emitted yet, and which of its commits hold them. Pure functions; the close rule itself
 * (`closeTime`) is the pipeline's.
 */
import type { EpochMillis, WindowBounds } from '../types';
import type { PendingWindow, PipelineProgress, ShardProgress } from './types';

/**
 * The emitted rule, in one place: every window ending at or before the mark this returns is emitted
 * (sessions: every session whose end plus the gap is; for a record, the window `[t, t + gap)` it opens).
 * The mark is one of window ends, not of close times, so a redeploy with another allowed lateness neither
 * opens an emitted window again (an increase) nor takes an open one for emitted (a decrease). Items written
 * before `emittedEnd` was kept: `emittedThrough` under the running lateness.
 */
export function emittedEndOf(pipeline: PipelineProgress | undefined, allowedLatenessMs: number): EpochMillis {
  if (pipeline === undefined) return -Infinity;
  return pipeline.emittedEnd ?? pipeline.emittedThrough - allowedLatenessMs;
}

/**
 * The close mark a shard's commit judges late records by (a window closed at it is late; `ElementRouter`):
 * the shard's own (`frozen`), raised to where its promised close mark in window ends (`closedEnd`,
 * `closeableThrough.ts`) and the emitted windows end, under the running lateness: a record for a window a
 * shorter lateness closed or emitted is late even when a longer one would keep the window open at `frozen`.
 * With one lateness throughout this is `frozen` itself.
 */
export function lateMark(
  shard: { readonly frozen: EpochMillis; readonly closedEnd: EpochMillis },
  pipeline: PipelineProgress | undefined,
  allowedLatenessMs: number,
): EpochMillis {
  const closedEnd = Math.max(shard.closedEnd, emittedEndOf(pipeline, allowedLatenessMs));
  return Math.max(shard.frozen, closedEnd + allowedLatenessMs);
}

/**
 * The list after commit `commit` added partials to `windows`: windows already pending keep their first
 * commit; windows whose `valueOf` is at or below `bound` (emitted: see `PendingRule`) are dropped. Sorted
 * by `valueOf`, then start.
 */
export function addPending(
  pending: readonly PendingWindow[],
  windows: readonly WindowBounds[],
  commit: number,
  bound: EpochMillis,
  valueOf: (window: WindowBounds) => EpochMillis,
): PendingWindow[] {
  const byId = new Map<string, PendingWindow>();
  for (const p of pending) if (valueOf(p) > bound) byId.set(`${p.start}-${p.end}`, p);
  for (const w of windows) {
    const id = `${w.start}-${w.end}`;
    const known = byId.get(id);
    byId.set(id, {
      start: w.start,
      end: w.end,
      firstCommit: known?.firstCommit ?? commit,
      lastCommit: commit,
    });
  }
  return [...byId.values()].sort((a, b) => valueOf(a) - valueOf(b) || a.start - b.start);
}

/** The list without the windows whose `valueOf` is at or below `bound` (what a shard keeps after a close). */
export function prunePending(
  pending: readonly PendingWindow[],
  bound: EpochMillis,
  valueOf: (window: WindowBounds) => EpochMillis,
): PendingWindow[] {
  return pending.filter((p) => valueOf(p) > bound);
}

/** A window due for emission, and the commits of each shard that hold its partials. */
export interface DueWindow {
  readonly window: WindowBounds;
  readonly closeAt: EpochMillis;
  /** shardId → commit range. */
  readonly commits: ReadonlyMap<string, { readonly from: number; readonly to: number }>;
}

/**
 * The windows of every shard's pending list not emitted (`end > emittedEnd`, `emittedEndOf`) that every
 * shard has closed (`end ≤ closeableEnd`, `closeableThrough.ts`), oldest close first, at most `limit`.
 */
export function dueWindows(
  shards: readonly ShardProgress[],
  emittedEnd: EpochMillis,
  closeableEnd: EpochMillis,
  closeTime: (window: WindowBounds) => EpochMillis,
  limit: number,
): DueWindow[] {
  const byId = new Map<
    string,
    { window: WindowBounds; closeAt: number; commits: Map<string, { from: number; to: number }> }
  >();
  for (const shard of shards) {
    for (const p of shard.pending) {
      if (p.end <= emittedEnd || p.end > closeableEnd) continue;
      const closeAt = closeTime(p);
      const id = `${p.start}-${p.end}`;
      let due = byId.get(id);
      if (due === undefined)
        byId.set(id, (due = { window: { start: p.start, end: p.end }, closeAt, commits: new Map() }));
      due.commits.set(shard.shardId, { from: p.firstCommit, to: p.lastCommit });
    }
  }
  return [...byId.values()]
    .sort((a, b) => a.closeAt - b.closeAt || a.window.start - b.window.start)
    .slice(0, limit);
}

/** Earliest close time among every shard's pending windows not emitted (`end > emittedEnd`), or undefined. */
export function nextCloseAt(
  shards: readonly ShardProgress[],
  emittedEnd: EpochMillis,
  closeTime: (window: WindowBounds) => EpochMillis,
): EpochMillis | undefined {
  let next: number | undefined;
  for (const shard of shards) {
    for (const p of shard.pending) {
      if (p.end <= emittedEnd) continue;
      const closeAt = closeTime(p);
      if (next === undefined || closeAt < next) next = closeAt;
    }
  }
  return next;
}

/** The first commit still holding a pending window of the shard (the start of its dedupe horizon). */
export function firstPendingCommit(progress: Pick<ShardProgress, 'pending' | 'commits'>): number {
  return progress.pending.reduce((first, p) => Math.min(first, p.firstCommit), progress.commits + 1);
}

/**
 * How a pipeline's partials map to pending windows and when a pending window can be dropped: fixed windows
 * are their own pending windows, dropped once emitted (end at or below `emittedEndOf`); session
 * fragments are stored under the bucket of `gap` their session starts in, dropped once the pipeline's
 * `sessionFloor` is at or past the bucket's end.
 */
export interface PendingRule {
  /** The pipeline mark pending windows are dropped at. */
  bound(pipeline: PipelineProgress | undefined): EpochMillis;
  /** What of a pending window is compared with the bound (dropped when at or below it), and its order. */
  valueOf(window: WindowBounds): EpochMillis;
  /** The window a partial of `window` is stored under. */
  windowOf(window: WindowBounds): WindowBounds;
  /** Session pipelines: partials carry their session bounds. */
  readonly sessions: boolean;
}

export function fixedWindowRule(allowedLatenessMs: number): PendingRule {
  return {
    bound: (pipeline) => emittedEndOf(pipeline, allowedLatenessMs),
    valueOf: (window) => window.end,
    windowOf: (window) => window,
    sessions: false,
  };
}

export function sessionRule(gapMs: number): PendingRule {
  return {
    bound: (pipeline) => pipeline?.sessionFloor ?? -Infinity,
    valueOf: (bucket) => bucket.end,
    windowOf: (session) => {
      const start = Math.floor(session.start / gapMs) * gapMs;
      return { start, end: start + gapMs };
    },
    sessions: true,
  };
}
