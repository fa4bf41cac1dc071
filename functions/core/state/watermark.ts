/**
 * Pipeline watermark from shard progress (DESIGN.md §2), and how far windows may close: up to the lowest
 * close mark (`frozen`) of the shards, since a shard adds nothing more to a window at or below its mark.
 */
import type { EpochMillis } from '../types';
import type { ShardProgress } from './types';

/**
 * Minimum watermark over active shards. A closed shard never holds the watermark back, nor does a shard
 * idle for longer than `idleTimeoutMs`; when every shard is idle the watermark is the highest of them.
 * Returns -Infinity when no shard has a watermark yet, or fewer than `expectedShards` open shards are
 * known (the tick registers shards that have not delivered anything, which then go idle).
 */
export function pipelineWatermark(
  shards: readonly Pick<ShardProgress, 'watermark' | 'lastActivity' | 'closed'>[],
  now: EpochMillis,
  idleTimeoutMs: number,
  expectedShards = 0,
): EpochMillis {
  // A shard that has not reported yet would otherwise find its windows closed by the others.
  if (shards.filter((shard) => !shard.closed).length < expectedShards) return -Infinity;
  let active = Infinity;
  let idle = -Infinity;
  let anyActive = false;
  for (const shard of shards) {
    const watermark = shard.watermark ?? -Infinity;
    if (shard.closed || isIdle(shard, now, idleTimeoutMs)) {
      idle = Math.max(idle, watermark);
    } else {
      anyActive = true;
      active = Math.min(active, watermark);
    }
  }
  return anyActive ? active : idle;
}

/** Whether a shard has had no records for longer than `idleTimeoutMs` of processing time. */
export function isIdle(
  shard: Pick<ShardProgress, 'lastActivity'>,
  now: EpochMillis,
  idleTimeoutMs: number,
): boolean {
  return now - shard.lastActivity > idleTimeoutMs;
}

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
