/**
 * Stage 2 of the two-stage example: reads what `clean-sessions` publishes to `sessions` and rolls it up per
 * country and hour. `dedupeBy: (r) => r.id` counts each upstream event once, however often stage 1 published
 * it (a redelivered or retried batch publishes again, under the same id).
 */
import * as z from 'zod/mini';
import { count, distinctCount, pipeline, sum, tumbling } from '../../core/dsl';

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/** A `sessions` record: the envelope stage 1 publishes (`PublishedRecord<SessionEvent>`). */
const PublishedSessionEvent = z.compile(
  z.object({
    id: text(256),
    time: z.number(),
    value: z.object({
      session: text(128),
      user: text(128),
      country: z.string().check(z.regex(/^[A-Z]{2}$/)),
      action: z.enum(['view', 'click', 'add_to_cart', 'purchase']),
      revenue: z.number().check(z.nonnegative()),
      durationMs: z.number().check(z.nonnegative()),
    }),
  }),
);

export default pipeline('session-rollup')
  .source({ stream: 'sessions', shards: 2 })
  .clean({ schema: PublishedSessionEvent, eventTime: (r) => r.time, dedupeBy: (r) => r.id })
  .keyBy((r) => r.value.country, 'country')
  .window(tumbling('1h'), { allowedLateness: '5m', maxOutOfOrderness: '2m', idleTimeout: '1m' })
  .aggregate({
    events: count(),
    sessions: distinctCount((r) => r.value.session),
    purchases: count((r) => r.value.action === 'purchase'),
    revenue: sum((r) => r.value.revenue),
  })
  .sink({ table: 'sessions_by_country_hourly' });
