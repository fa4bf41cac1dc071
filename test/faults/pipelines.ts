/**
 * Pipelines the fault suite runs: the shipped page-activity pipeline (dedupe by event id), and the same
 * pipeline without dedupe, where a producer duplicate is a separate record that must be counted twice
 * — only fencing by sequence number then keeps redeliveries from being counted again.
 */
import type { StatefulPipeline } from '../../functions/core/state/types';
import { pageActivity, pageActivityPipeline } from '../../functions/pipelines/pageActivity';

export const pageActivityWithoutDedupe: StatefulPipeline = pageActivityPipeline('page-activity-nodedupe', { dedupe: false });

/** A pipeline under test and whether it drops producer duplicates by event id. */
export interface FaultPipeline {
  readonly pipeline: StatefulPipeline;
  readonly dedupe: boolean;
}

export const FAULT_PIPELINES: readonly FaultPipeline[] = [
  { pipeline: pageActivity, dedupe: true },
  { pipeline: pageActivityWithoutDedupe, dedupe: false },
];
