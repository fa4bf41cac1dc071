/**
 * The two stages both two-stage fault tests run (in memory: `test/faults/twoStages.test.ts`; through the
 * event-source-mapping runtime: `test/integration/twoStagesEsm.int.test.ts`): clicks → upstream (a stage that
 * only publishes: clean, filter, map, publish each view to `views` keyed by user) → `views` → downstream (views and
 * time per user, counting each published id once).
 */
import { z } from 'zod';
import { count, pipeline, sum, tumbling } from '../../functions/core/dsl';
import type { ResultRow } from '../../functions/core/types';
import type { Prng } from '../faults/prng';

export const Click = z.object({
  id: z.string(),
  user: z.string(),
  page: z.string(),
  ts: z.number(),
  ms: z.number(),
});

/**
 * One random click of the upstream's schema, within ten minutes of `t0`: one user of 12, one page of 5, and
 * one in ten with a negative duration (the upstream filters it out). Where its producer retries go is the
 * caller's choice.
 */
export function randomClick(rng: Prng, t0: number): z.infer<typeof Click> {
  return {
    id: rng.uuid(),
    user: `u${rng.int(0, 11)}`,
    page: `/p${rng.int(0, 4)}`,
    ts: t0 + rng.int(0, 600_000),
    ms: rng.chance(0.1) ? -1 : rng.int(0, 5000),
  };
}

/** Nothing is late in either stage (windows close at the end of input): the rows are exact. */
const TIME = { allowedLateness: '0s', maxOutOfOrderness: '1h', idleTimeout: '1d' } as const;

const View = z.object({
  id: z.string(),
  time: z.number(),
  value: z.object({ user: z.string(), page: z.string(), ms: z.number() }),
});

/**
 * The two stages, their pipeline and table names prefixed with `prefix` (`<prefix>-clicks`, `<prefix>_views`…).
 * With `upstreamWindowed`, the upstream also goes on after publishing to windows of its own (`.toStream()` then
 * `keyBy → window → aggregate → sink`): the publish path of a windowed pipeline, under the same faults.
 */
export function twoStages(prefix: string, options: { readonly upstreamWindowed?: boolean } = {}) {
  const publishing = pipeline(`${prefix}-clicks`)
    .source({ stream: 'clicks', shards: 2 })
    .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
    .filter((c) => c.ms >= 0)
    .map((c) => ({ user: c.user, page: c.page, ms: c.ms }))
    .toStream('views', { partitionKey: (v) => v.user });
  const upstream =
    options.upstreamWindowed === true
      ? publishing
          .keyBy((v) => v.page, 'page')
          .window(tumbling('1m'), TIME)
          .aggregate({ views: count() })
          .sink({ table: `${prefix}_pages` })
      : publishing;
  const downstream = pipeline(`${prefix}-views`)
    .source({ stream: 'views', shards: 2 })
    .clean({ schema: View, eventTime: (r) => r.time, dedupeBy: (r) => r.id })
    .keyBy((r) => r.value.user, 'user')
    .window(tumbling('1m'), TIME)
    .aggregate({ views: count(), time_ms: sum((r) => r.value.ms) })
    .sink({ table: `${prefix}_views` });
  return { upstream, downstream };
}

/** The downstream stage's rows as the DuckDB reference shapes them, in its order (window, then user). */
export function viewRows(rows: readonly ResultRow[]) {
  return rows
    .map((r) => ({
      user: r['user'],
      window_start: String(r['window_start']),
      views: Number(r['views']),
      time_ms: Number(r['time_ms']),
    }))
    .sort(
      (a, b) =>
        Number(a.window_start) - Number(b.window_start) || String(a.user).localeCompare(String(b.user)),
    );
}
