/** Pipelines and status snapshots for the console's unit tests. */
import { z } from 'zod';
import { count, pipeline, sum, tumbling } from '../../functions/core/dsl';
import { NO_COUNTS } from '../../functions/core/state/shardCounts';
import type { PipelineSample } from '../../localstack/console/consoleSources';
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

/** 12:mm:ss on 2026-01-01 (UTC), epoch ms. */
export const minute = (m: number, s = 0): number => Date.UTC(2026, 0, 1, 12, m, s);
/** When {@link busySample} was taken. */
export const SAMPLE_AT = minute(10);

/**
 * `clicks` at 12:10: shard0's watermark at 12:08:00 (4 records pending, the oldest 2.5 s old), shard1's at
 * 12:07:30, both active; the windows of 12:05, 12:06 and 12:07 pending; 100 records in.
 */
export const busyStatus = pipelineStatus({
  shards: [
    shardStatus('shardId-000000000000', {
      watermark: minute(8),
      lastActivity: SAMPLE_AT - 1_000,
      pendingRecords: 4,
      iteratorAgeMs: 2_500,
      taken: { records: 70, rejected: 2, late: 1, duplicates: 1 },
    }),
    shardStatus('shardId-000000000001', {
      watermark: minute(7, 30),
      lastActivity: SAMPLE_AT - 1_000,
      taken: { records: 30, rejected: 1, late: 0, duplicates: 0 },
    }),
  ],
  pendingWindows: [
    { start: minute(5), end: minute(6) },
    { start: minute(6), end: minute(7) },
    { start: minute(7), end: minute(8) },
  ],
  openWindows: 3,
  taken: { records: 100, rejected: 3, late: 1, duplicates: 1 },
});

/** {@link busyStatus} with 3 rejections (clean), 1 late record and 4 windows emitted. */
export const busySample: PipelineSample = {
  status: busyStatus,
  rejected: {
    total: 3,
    byStage: { clean: 3 },
    byReason: [{ reason: 'SCHEMA_VIOLATION', count: 3 }],
    recent: [],
  },
  results: { table: 'clicks_minutely', windowsEmitted: 4, latest: null },
  lateRecords: 1,
};
