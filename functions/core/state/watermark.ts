/** Pipeline watermark from shard progress (DESIGN.md §2), kept monotonic by the stored closed watermark. */
import type { EpochMillis, ShardProgress } from '../types';
import type { ProgressSnapshot } from './types';

/**
 * Minimum watermark over active shards. A closed shard never holds the watermark back, nor does a shard
 * idle for longer than `idleTimeoutMs`; when every shard is idle the watermark is the highest of them.
 * Returns -Infinity when no shard has a watermark yet, or fewer than `expectedShards` open shards are
 * known (the tick registers shards that have not delivered anything, which then go idle).
 */
export function pipelineWatermark(shards: readonly ShardProgress[], now: EpochMillis, idleTimeoutMs: number, expectedShards = 0): EpochMillis {
  // A shard that has not reported yet would otherwise find its windows closed by the others.
  if (shards.filter((shard) => !shard.closed).length < expectedShards) return -Infinity;
  let active = Infinity;
  let idle = -Infinity;
  let anyActive = false;
  for (const shard of shards) {
    const watermark = shard.watermark ?? -Infinity;
    if (shard.closed || now - shard.lastActivity > idleTimeoutMs) {
      idle = Math.max(idle, watermark);
    } else {
      anyActive = true;
      active = Math.min(active, watermark);
    }
  }
  return anyActive ? active : idle;
}

/** The watermark a batch is judged against: never below what windows were already closed at. */
export function effectiveWatermark(snapshot: ProgressSnapshot, now: EpochMillis, idleTimeoutMs: number, expectedShards = 0): EpochMillis {
  return Math.max(pipelineWatermark(snapshot.shards, now, idleTimeoutMs, expectedShards), snapshot.pipeline?.closedWatermark ?? -Infinity);
}
