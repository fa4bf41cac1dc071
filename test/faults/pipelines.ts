/**
 * Pipelines the fault suite runs: the shipped page-activity pipeline (dedupe by event id), and the same
 * pipeline without dedupe, where a producer duplicate is a separate record that must be counted twice
 * — only fencing by sequence number then keeps redeliveries from being counted again.
 */
import { avg, count, distinctCount, max, percentile, pipeline, sum, topK, tumbling } from '../../functions/core/dsl';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { pageActivity, PageEvent } from '../../functions/pipelines/pageActivity';

export const pageActivityWithoutDedupe: StatefulPipeline = pipeline('page-activity-nodedupe')
  .source({ stream: 'clickstream', shards: 2 })
  .clean({ schema: PageEvent, eventTime: (e) => Date.parse(e.ts) })
  .keyBy((e) => e.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({
    events: count(),
    purchases: count((e) => e.action === 'purchase'),
    revenue: sum((e) => e.revenue),
    avg_duration_ms: avg((e) => e.durationMs),
    max_duration_ms: max((e) => e.durationMs),
    p95_duration_ms: percentile((e) => e.durationMs, 0.95),
    users: distinctCount((e) => e.userId),
    top_countries: topK((e) => e.country, 3),
  })
  .sink({ table: 'page_activity_minutely' });

/** A pipeline under test and whether it drops producer duplicates by event id. */
export interface FaultPipeline {
  readonly pipeline: StatefulPipeline;
  readonly dedupe: boolean;
}

export const FAULT_PIPELINES: readonly FaultPipeline[] = [
  { pipeline: pageActivity, dedupe: true },
  { pipeline: pageActivityWithoutDedupe, dedupe: false },
];
