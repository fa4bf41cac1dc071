import type { EpochMillis } from '../types';
import { pipelineWatermark, shardWatermark } from './pipelineWatermark';

/** What the tracker knows about one shard. */
export interface ShardWatermarkState {
  /** Max event time seen on the shard, or null before its first record. */
  readonly maxEventTime: EpochMillis | null;
  /** Processing time of the shard's last record (or of its registration). */
  readonly lastActivity: EpochMillis;
  /** Closed by resharding and fully drained: it no longer holds the watermark back. */
  readonly closed: boolean;
}

/** Event-time settings the watermark depends on. */
export interface WatermarkSettings {
  readonly maxOutOfOrdernessMs: number;
  readonly idleTimeoutMs: number;
}

/**
 * Tracks per-shard maxima and derives the pipeline watermark (the one rule, `pipelineWatermark.ts`). Processing time is passed in (an injected
 * clock's `now()`), never read from the wall clock. The watermark never moves backwards: it is clamped to
 * the highest value returned so far.
 *
 * @example
 * const t = new WatermarkTracker({ maxOutOfOrdernessMs: 5_000, idleTimeoutMs: 60_000 });
 * t.observe('shard-0', 100_000, clock.now());
 * t.watermark(clock.now()); // 95_000
 */
export class WatermarkTracker {
  private readonly shards = new Map<
    string,
    { maxEventTime: EpochMillis | null; lastActivity: EpochMillis; closed: boolean }
  >();
  private high = -Infinity;

  public constructor(private readonly settings: WatermarkSettings) {}

  /** Makes a shard known before it has records (it holds the watermark back until idle). */
  public register(shardId: string, now: EpochMillis): void {
    if (!this.shards.has(shardId))
      this.shards.set(shardId, { maxEventTime: null, lastActivity: now, closed: false });
  }

  /** Records activity on a shard; `maxEventTime` is the max event time of the records just seen (or null). */
  public observe(shardId: string, maxEventTime: EpochMillis | null, now: EpochMillis): void {
    const s = this.shards.get(shardId);
    if (s === undefined) {
      this.shards.set(shardId, { maxEventTime, lastActivity: now, closed: false });
      return;
    }
    if (maxEventTime !== null && (s.maxEventTime === null || maxEventTime > s.maxEventTime))
      s.maxEventTime = maxEventTime;
    if (now > s.lastActivity) s.lastActivity = now;
  }

  /** Marks a shard closed (resharded and drained): it stops holding the watermark back. */
  public close(shardId: string): void {
    const s = this.shards.get(shardId);
    if (s === undefined)
      this.shards.set(shardId, { maxEventTime: null, lastActivity: -Infinity, closed: true });
    else s.closed = true;
  }

  /** The current pipeline watermark at processing time `now` (monotonic). */
  public watermark(now: EpochMillis): EpochMillis {
    const shards = [...this.shards.values()].map((s) => ({
      watermark: shardWatermark(s.maxEventTime, this.settings.maxOutOfOrdernessMs),
      lastActivity: s.lastActivity,
      closed: s.closed,
    }));
    const wm = pipelineWatermark(shards, now, this.settings.idleTimeoutMs);
    if (wm > this.high) this.high = wm;
    return this.high;
  }

  /** Snapshot of the per-shard state (for persistence or inspection). */
  public snapshot(): ReadonlyMap<string, ShardWatermarkState> {
    return new Map([...this.shards].map(([k, v]) => [k, { ...v }]));
  }
}
