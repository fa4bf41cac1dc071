/**
 * Stage 1 of the rollups example (README "Publishing window results"): counts the clickstream per page and
 * minute, once per event id, and publishes every minute row to the `page-minutes` stream when its window
 * closes (`.sink({ table, toStream })`), besides writing it to its own table.
 *
 * npx shardflow run functions/pipelines/rollups/pageMinutes.ts functions/pipelines/rollups/pageHours.ts --input clicks.jsonl
 */
import { count, parseIsoDateTime, pipeline, sum, tumbling } from '../../core/dsl';
import { PageEvent } from '../pageActivity';

export default pipeline('page-minutes')
  .source({ stream: 'clickstream', shards: 2 })
  .clean({ schema: PageEvent, eventTime: (e) => parseIsoDateTime(e.ts), dedupeBy: (e) => e.eventId })
  .keyBy((e) => e.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '1m' })
  .aggregate({
    events: count(),
    purchases: count((e) => e.action === 'purchase'),
    revenue: sum((e) => e.revenue),
  })
  .sink({ table: 'page_minutes', toStream: 'page-minutes' });
