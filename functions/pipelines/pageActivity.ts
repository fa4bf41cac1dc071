import * as z from 'zod/mini';
import { en } from 'zod/locales';
import {
  avg,
  count,
  distinctCount,
  max,
  parseIsoDateTime,
  percentile,
  pipeline,
  sum,
  topK,
  tumbling,
} from '../core/dsl';
import type { CompiledPipeline } from '../core/engine/CompiledPipeline';
import type { WindowSpec } from '../core/types';

// Bound once: under CommonJS interop (tsx, jest) each call through the named import is a getter call.
const isoTime = parseIsoDateTime;

// zod/mini carries no messages of its own: the English locale gives rejected/ reasons zod's wording.
z.config(en());

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/**
 * One clickstream event, as the producer (and the CLI's generator) writes it. zod/mini (tree-shaken: the
 * operator bundle carries only the checks used here). Not wrapped in `z.compile`: the engine compiles this
 * shape itself for valid records (`functions/core/engine/schemaFastPath.ts`), so zod's compiler (~29 KB of
 * the operator bundle) would only speed up rejected records; their messages are zod's either way.
 */
export const PageEvent = z.object({
  eventId: z.uuid(),
  userId: text(128),
  sessionId: text(128),
  page: text(512),
  action: z.enum(['view', 'click', 'add_to_cart', 'purchase']),
  /** ISO 3166-1 alpha-2. */
  country: z.string().check(z.regex(/^[A-Z]{2}$/)),
  device: z.enum(['mobile', 'desktop', 'tablet']),
  // z.number() rejects Infinity and NaN.
  durationMs: z.number().check(z.nonnegative()),
  revenue: z.number().check(z.nonnegative()),
  /** ISO-8601 timestamp; the event time. */
  ts: z.iso.datetime({ offset: true }),
});
export type PageEvent = z.infer<typeof PageEvent>;

/**
 * The page-activity pipeline under `name`. `dedupe: false` leaves out the dedupe by event id (the fault
 * suite's variant, where a producer duplicate is a separate record); `window` replaces the one-minute
 * tumbling window (the fault suite's sliding and session variants); everything else is the same.
 */
export function pageActivityPipeline(
  name: string,
  options: { readonly dedupe: boolean; readonly window?: WindowSpec; readonly table?: string },
): CompiledPipeline<PageEvent> {
  return pipeline(name)
    .source({ stream: 'clickstream', shards: 2 })
    .clean({
      schema: PageEvent,
      // The strict parser of exactly the schema's `ts` format: Date.parse cost ~0.3x of the bare decode loop.
      eventTime: (e) => isoTime(e.ts),
      ...(options.dedupe ? { dedupeBy: (e: PageEvent) => e.eventId } : {}),
    })
    .keyBy((e) => e.page, 'page')
    .window(options.window ?? tumbling('1m'), {
      allowedLateness: '30s',
      maxOutOfOrderness: '10s',
      idleTimeout: '30s',
    })
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
    .sink({ table: options.table ?? 'page_activity_minutely' });
}

/**
 * Per-page activity per minute: counts, revenue, dwell time statistics, distinct users and top countries.
 */
export const pageActivity = pageActivityPipeline('page-activity', { dedupe: true });

export default pageActivity;
