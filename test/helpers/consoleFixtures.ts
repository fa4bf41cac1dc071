/** Pipelines and status snapshots for the console's unit tests. */
import { z } from 'zod';
import { count, pipeline, sum, tumbling } from '../../functions/core/dsl';
import { NO_COUNTS } from '../../functions/core/state/shardCounts';
import type { PipelineStatus, ShardStatus } from '../../localstack/start/pipelineStatus';

const Click = z.object({ id: z.string(), page: z.string(), price: z.number(), ts: z.number() });

/** Two shards, dedupe, a map and a filter before keyBy, one-minute windows with 30 s lateness. */
export const clicks = pipeline('clicks')
  .source({ stream: 'clicks', shards: 2 })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .map((c) => ({ ...c, cents: Math.round(c.price * 100) }), 'toCents')
  .filter((c) => c.page !== '/health', 'dropHealth')
  .keyBy((c) => c.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({ views: count(), cents: sum((c) => c.cents) })
  .sink({ table: 'clicks_minutely' });

/** A shard as `status` reports it. */
export function shardStatus(shardId: string, overrides: Partial<ShardStatus> = {}): ShardStatus {
  return {
    shardId,
    pendingRecords: 0,
    iteratorAgeMs: 0,
    watermark: null,
    lastActivity: null,
    closed: false,
    taken: NO_COUNTS,
    ...overrides,
  };
}

/** A pipeline status with no progress, then `overrides`. */
export function pipelineStatus(overrides: Partial<PipelineStatus> = {}): PipelineStatus {
  return {
    pipeline: 'clicks',
    stream: 'clicks-physical',
    shards: [shardStatus('shardId-000000000000'), shardStatus('shardId-000000000001')],
    closedWatermark: null,
    openWindows: 0,
    pendingWindows: [],
    emittedThrough: null,
    counts: { windowsEmitted: 0, rejected: 0, late: 0 },
    taken: NO_COUNTS,
    ...overrides,
  };
}
