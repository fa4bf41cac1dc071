/**
 * Pipelines the fault suite runs: the shipped page-activity pipeline (dedupe by event id), and the same
 * pipeline without dedupe, where a producer duplicate is a separate record that must be counted twice
 * — only fencing by sequence number then keeps redeliveries from being counted again.
 */
import type { StatefulPipeline } from '../../functions/core/state/types';
import { session, sliding } from '../../functions/core/dsl';
import { pageActivity, pageActivityPipeline } from '../../functions/pipelines/pageActivity';

export const pageActivityWithoutDedupe: StatefulPipeline = pageActivityPipeline('page-activity-nodedupe', {
  dedupe: false,
});

/** page-activity over two-minute windows every minute: each record counts in two windows. */
export const pageActivitySliding: StatefulPipeline = pageActivityPipeline('page-activity-sliding', {
  dedupe: true,
  window: sliding('2m', '1m'),
  table: 'page_activity_sliding',
});

/** page-activity per page session (4 s of silence ends one): sessions merge across batches and shards. */
export const pageActivitySessions: StatefulPipeline = pageActivityPipeline('page-activity-sessions', {
  dedupe: true,
  window: session('4s'),
  table: 'page_activity_sessions',
});

/** A pipeline under test and whether it drops producer duplicates by event id. */
export interface FaultPipeline {
  readonly pipeline: StatefulPipeline;
  readonly dedupe: boolean;
}

export const FAULT_PIPELINES: readonly FaultPipeline[] = [
  { pipeline: pageActivity, dedupe: true },
  { pipeline: pageActivityWithoutDedupe, dedupe: false },
  { pipeline: pageActivitySliding, dedupe: true },
  { pipeline: pageActivitySessions, dedupe: true },
];
