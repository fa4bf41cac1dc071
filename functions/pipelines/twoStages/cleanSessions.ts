/**
 * Stage 1 of the two-stage example (README "Pipelines that feed pipelines"): a stage that only publishes. It
 * cleans the clickstream once and publishes each event as a session event to the `sessions` stream, under its
 * event id (`dedupeBy`), keyed by session so all copies of one event meet on one shard downstream, where
 * `session-rollup` counts each id once. No window, no result table.
 *
 * npx shardflow run functions/pipelines/twoStages/cleanSessions.ts functions/pipelines/twoStages/sessionRollup.ts --input clicks.jsonl
 */
import { parseIsoDateTime, pipeline } from '../../core/dsl';
import { PageEvent } from '../pageActivity';

/** What stage 1 publishes for each clean event (the `value` of each `sessions` record). */
export interface SessionEvent {
  readonly session: string;
  readonly user: string;
  readonly country: string;
  readonly action: PageEvent['action'];
  readonly revenue: number;
  readonly durationMs: number;
}

export default pipeline('clean-sessions')
  .source({ stream: 'clickstream', shards: 2 })
  .clean({ schema: PageEvent, eventTime: (e) => parseIsoDateTime(e.ts), dedupeBy: (e) => e.eventId })
  .map((e): SessionEvent => ({
    session: e.sessionId,
    user: e.userId,
    country: e.country,
    action: e.action,
    revenue: e.revenue,
    durationMs: e.durationMs,
  }))
  .toStream('sessions', { partitionKey: (s) => s.session });
