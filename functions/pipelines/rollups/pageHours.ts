/**
 * Stage 2 of the rollups example: reads the minute rows `page-minutes` publishes and rolls them up per page
 * and hour. `dedupeBy: (r) => r.id` counts each minute row once, however often stage 1 published it (a close
 * pass that dies after its put and before its emitted mark publishes its rows again, under the same ids
 * `<table>/<window start>/<key>`). A row's event time is its minute's start.
 */
import * as z from 'zod/mini';
import { count, pipeline, sum, tumbling } from '../../core/dsl';

const counter = () => z.number().check(z.nonnegative(), z.multipleOf(1));

/** A `page-minutes` record: the envelope stage 1 publishes around each minute row. */
const PublishedMinuteRow = z.compile(
  z.object({
    id: z.string().check(z.minLength(1), z.maxLength(256)),
    time: z.number(),
    value: z.object({
      page: z.string().check(z.minLength(1), z.maxLength(512)),
      events: counter(),
      purchases: counter(),
      revenue: z.number().check(z.nonnegative()),
    }),
  }),
);

export default pipeline('page-hours')
  .source({ stream: 'page-minutes', shards: 2 })
  .clean({ schema: PublishedMinuteRow, eventTime: (r) => r.time, dedupeBy: (r) => r.id })
  .keyBy((r) => r.value.page, 'page')
  .window(tumbling('1h'), { allowedLateness: '5m', maxOutOfOrderness: '10m', idleTimeout: '1m' })
  .aggregate({
    events: sum((r) => r.value.events),
    purchases: sum((r) => r.value.purchases),
    revenue: sum((r) => r.value.revenue),
    minutes: count(),
  })
  .sink({ table: 'page_hours' });
