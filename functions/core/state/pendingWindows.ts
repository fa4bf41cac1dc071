/**
 * The pending-window list of a shard's progress item: which windows the shard has committed partials to
 * that are not emitted yet, and which of its commits hold them. Pure functions; the close rule itself
 * (`closeTime`) is the pipeline's.
 */
import type { EpochMillis, WindowBounds } from '../types';
import type { PendingWindow, PipelineProgress, ShardProgress } from './types';

/**
 * The list after commit `commit` added partials to `windows`: windows already pending keep their first
 * commit; windows whose close time is at or below `emittedThrough` (emitted) are dropped. Sorted by close
 * time, then start.
 */
export function addPending(
  pending: readonly PendingWindow[],
  windows: readonly WindowBounds[],
  commit: number,
  emittedThrough: EpochMillis,
  closeTime: (window: WindowBounds) => EpochMillis,
): PendingWindow[] {
  const byId = new Map<string, PendingWindow>();
  for (const p of pending) if (closeTime(p) > emittedThrough) byId.set(`${p.start}-${p.end}`, p);
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
  return [...byId.values()].sort((a, b) => closeTime(a) - closeTime(b) || a.start - b.start);
}

/** The list without the windows at or below `emittedThrough` (what a shard keeps after a close). */
export function prunePending(
  pending: readonly PendingWindow[],
  emittedThrough: EpochMillis,
  closeTime: (window: WindowBounds) => EpochMillis,
): PendingWindow[] {
  return pending.filter((p) => closeTime(p) > emittedThrough);
}

/** A window due for emission, and the commits of each shard that hold its partials. */
export interface DueWindow {
  readonly window: WindowBounds;
  readonly closeAt: EpochMillis;
  /** shardId → commit range. */
  readonly commits: ReadonlyMap<string, { readonly from: number; readonly to: number }>;
}

/**
 * The windows of every shard's pending list with `emittedThrough < closeTime ≤ closeableThrough`, oldest
 * close first, at most `limit`.
 */
export function dueWindows(
  shards: readonly ShardProgress[],
  emittedThrough: EpochMillis,
  closeableThrough: EpochMillis,
  closeTime: (window: WindowBounds) => EpochMillis,
  limit: number,
): DueWindow[] {
  const byId = new Map<
    string,
    { window: WindowBounds; closeAt: number; commits: Map<string, { from: number; to: number }> }
  >();
  for (const shard of shards) {
    for (const p of shard.pending) {
      const closeAt = closeTime(p);
      if (closeAt <= emittedThrough || closeAt > closeableThrough) continue;
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

/** Earliest close time above `emittedThrough` among every shard's pending windows, or undefined. */
export function nextCloseAt(
  shards: readonly ShardProgress[],
  emittedThrough: EpochMillis,
  closeTime: (window: WindowBounds) => EpochMillis,
): EpochMillis | undefined {
  let next: number | undefined;
  for (const shard of shards) {
    for (const p of shard.pending) {
      const closeAt = closeTime(p);
      if (closeAt > emittedThrough && (next === undefined || closeAt < next)) next = closeAt;
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
 * are their own pending windows, dropped once emitted (close time at or below `emittedThrough`); session
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

export function fixedWindowRule(closeTime: (window: WindowBounds) => EpochMillis): PendingRule {
  return {
    bound: (pipeline) => pipeline?.emittedThrough ?? -Infinity,
    valueOf: closeTime,
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
