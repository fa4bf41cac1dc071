/**
 * How far windows may close: up to the lowest close mark (`frozen`) of the shards, since a shard adds
 * nothing more to a window at or below its mark. (The pipeline watermark itself: `watermark/pipelineWatermark.ts`.)
 */
import type { EpochMillis } from '../types';
import type { ShardProgress } from './types';

/**
 * How far windows may be emitted: the lowest close mark over open shards (-Infinity while fewer than
 * `expectedShards` open shards are known, or no shard is).
 */
export function closeableThrough(
  shards: readonly Pick<ShardProgress, 'frozen' | 'closed'>[],
  expectedShards = 0,
): EpochMillis {
  const open = shards.filter((shard) => !shard.closed);
  if (open.length < expectedShards) return -Infinity;
  // Every known shard closed and fully processed: nothing can arrive any more.
  if (open.length === 0) return shards.length > 0 ? Infinity : -Infinity;
  return Math.min(...open.map((shard) => shard.frozen));
}
