/**
 * The watermark rule (DESIGN.md §2), written once: the per-shard watermark, when a shard is idle, and the
 * pipeline watermark over shards. The apply path (from stored shard progress, also in bounded runs) and
 * `WatermarkTracker` (a stateful wrapper for callers that track shards themselves) both call it.
 */
import type { EpochMillis } from '../types';

/** What the rule reads of one shard. */
export interface ShardWatermarkInput {
  /** The shard's watermark (`shardWatermark`), or null before its first record. */
  readonly watermark: EpochMillis | null;
  /** Processing time of the shard's last record (or of its registration). */
  readonly lastActivity: EpochMillis;
  /** Closed by resharding and fully drained. */
  readonly closed: boolean;
}

/** Per-shard watermark: `maxEventTime − maxOutOfOrderness`, or null before any record. */
export function shardWatermark(
  maxEventTime: EpochMillis | null,
  maxOutOfOrdernessMs: number,
): EpochMillis | null {
  return maxEventTime === null ? null : maxEventTime - maxOutOfOrdernessMs;
}

/** Whether a shard has had no records for strictly longer than `idleTimeoutMs` of processing time. */
export function isIdle(
  shard: Pick<ShardWatermarkInput, 'lastActivity'>,
  now: EpochMillis,
  idleTimeoutMs: number,
): boolean {
  return now - shard.lastActivity > idleTimeoutMs;
}

/**
 * Minimum watermark over active shards. A closed shard never holds the watermark back, nor does an idle one;
 * when no shard is active the watermark is the highest of them all, closed ones included (the stream went
 * quiet: everything seen so far may close). Returns -Infinity when no shard has a watermark yet, or fewer
 * than `expectedShards` open shards are known (a shard that has not reported yet would otherwise find its
 * windows closed by the others; the tick registers such shards, which then go idle).
 */
export function pipelineWatermark(
  shards: Iterable<ShardWatermarkInput>,
  now: EpochMillis,
  idleTimeoutMs: number,
  expectedShards = 0,
): EpochMillis {
  let open = 0;
  let active = Infinity;
  let idle = -Infinity;
  let anyActive = false;
  for (const shard of shards) {
    if (!shard.closed) open += 1;
    const watermark = shard.watermark ?? -Infinity;
    if (shard.closed || isIdle(shard, now, idleTimeoutMs)) {
      idle = Math.max(idle, watermark);
    } else {
      anyActive = true;
      active = Math.min(active, watermark);
    }
  }
  if (open < expectedShards) return -Infinity;
  return anyActive ? active : idle;
}
