/**
 * How far windows may close: up to the lowest close mark of the shards, since a shard adds nothing more to a
 * window at or below its mark. (The pipeline watermark itself: `watermark/pipelineWatermark.ts`.)
 *
 * Two units. `frozen` is a watermark: under allowed lateness L it closes every window ending at or before
 * `frozen − L`. `closedEnd` is that end itself, kept as the highest any commit of the shard promised: a
 * deploy that changes L runs old and new code side by side, and a pass under the shorter L may emit a window
 * that a commit under the longer one would still take for open. A commit judges late by the stored
 * `closedEnd` as well as by its own `frozen − L`, and a pass emits only windows ending at or before every
 * shard's `closedEnd`, so no commit adds to a window a pass may have emitted, whatever L each runs with.
 */
import type { EpochMillis } from '../types';
import type { PipelineProgress, ProgressSnapshot, ShardCommit, ShardProgress, StateStore } from './types';

/**
 * The shard's close mark in window ends: every window ending at or before it is closed for the shard. Items
 * written before `closedEnd` was kept: `frozen` under the running lateness.
 */
export function closedEndOf(
  shard: Pick<ShardProgress, 'frozen' | 'closedEnd'>,
  allowedLatenessMs: number,
): EpochMillis {
  return shard.closedEnd ?? shard.frozen - allowedLatenessMs;
}

/**
 * Where a shard that commits for the first time starts: the pipeline's marks (raised by the close passes
 * before they read), `closedWatermark` and `closedEnd`; the latter at least the former under the running
 * lateness (a pass of an older version raises `closedWatermark` alone), as the shard's own first commit
 * would raise it anyway.
 */
export function startingMarks(
  pipeline: PipelineProgress | undefined,
  allowedLatenessMs: number,
): { readonly frozen: EpochMillis; readonly closedEnd: EpochMillis } {
  const frozen = pipeline?.closedWatermark ?? -Infinity;
  return {
    frozen,
    closedEnd: Math.max(pipeline?.closedEnd ?? -Infinity, frozen - allowedLatenessMs),
  };
}

/**
 * The shard's `closedEnd` after it froze through `frozen` under `allowedLatenessMs`: never lower than it was
 * (a longer lateness does not open again what a shorter one closed).
 */
export function raisedClosedEnd(
  shard: Pick<ShardProgress, 'frozen' | 'closedEnd'>,
  frozen: EpochMillis,
  allowedLatenessMs: number,
): EpochMillis {
  return Math.max(closedEndOf(shard, allowedLatenessMs), frozen - allowedLatenessMs);
}

/**
 * The lowest `markOf` over open shards: -Infinity while fewer than `expectedShards` open shards are known, or
 * no shard is; Infinity when every known shard is closed and fully processed (nothing can arrive any more).
 */
function lowestOpen<S extends Pick<ShardProgress, 'closed'>>(
  shards: readonly S[],
  expectedShards: number,
  markOf: (shard: S) => EpochMillis,
): EpochMillis {
  const open = shards.filter((shard) => !shard.closed);
  if (open.length < expectedShards) return -Infinity;
  if (open.length === 0) return shards.length > 0 ? Infinity : -Infinity;
  return Math.min(...open.map(markOf));
}

/** How far windows may be emitted, as a watermark: the lowest `frozen` over open shards ({@link lowestOpen}). */
export function closeableThrough(
  shards: readonly Pick<ShardProgress, 'frozen' | 'closed'>[],
  expectedShards = 0,
): EpochMillis {
  return lowestOpen(shards, expectedShards, (shard) => shard.frozen);
}

/**
 * How far windows may be emitted, in window ends: every window ending at or before this is closed for every
 * open shard ({@link closedEndOf}, {@link lowestOpen}).
 */
export function closeableEnd(
  shards: readonly Pick<ShardProgress, 'frozen' | 'closedEnd' | 'closed'>[],
  allowedLatenessMs: number,
  expectedShards = 0,
): EpochMillis {
  return lowestOpen(shards, expectedShards, (shard) => closedEndOf(shard, allowedLatenessMs));
}

/**
 * The condition of a shard's first item on the pipeline's marks it starts from ({@link startingMarks}): the
 * commit fails if a close pass raised either meanwhile.
 */
export function startingCondition(
  pipeline: PipelineProgress | undefined,
): Pick<ShardCommit, 'closedWatermarkRead' | 'closedEndRead'> {
  return {
    closedWatermarkRead: pipeline?.closedWatermark ?? -Infinity,
    ...(pipeline?.closedEnd !== undefined ? { closedEndRead: pipeline.closedEnd } : {}),
  };
}

/**
 * Raises the pipeline's `closedWatermark` and `closedEnd` (where a shard's first commit starts) to the lowest
 * marks of the snapshot's shards, before a close pass reads what it emits. Returns whether either rose (the
 * caller reads progress again).
 */
export async function raiseClosedMarks(
  store: Pick<StateStore, 'raisePipeline'>,
  name: string,
  snapshot: ProgressSnapshot,
  allowedLatenessMs: number,
  expectedShards: number,
): Promise<boolean> {
  const watermark = closeableThrough(snapshot.shards, expectedShards);
  const end = closeableEnd(snapshot.shards, allowedLatenessMs, expectedShards);
  const marks = {
    ...(end > (snapshot.pipeline?.closedEnd ?? -Infinity) ? { closedEnd: end } : {}),
    ...(watermark > (snapshot.pipeline?.closedWatermark ?? -Infinity) ? { closedWatermark: watermark } : {}),
  };
  if (Object.keys(marks).length === 0) return false;
  await store.raisePipeline(name, marks);
  return true;
}
