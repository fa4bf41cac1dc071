import type { ClickstreamTotals } from '../generator/clickstream';
import type { QueryResult } from '../query/types';

/** A titled SQL query whose answer `start` prints. */
export interface SampleQuery {
  readonly title: string;
  readonly sql: string;
}

/** The sample questions `npm start` answers about the default pipeline's result table. */
export function sampleQueries(table: string): SampleQuery[] {
  return [
    {
      title: 'Top 5 pages by events',
      sql: `SELECT page, sum(events) AS events, sum(purchases) AS purchases, round(sum(revenue), 2) AS revenue
FROM ${table} GROUP BY page ORDER BY events DESC, page LIMIT 5`,
    },
    {
      title: 'Activity per minute (event time, UTC)',
      sql: `SELECT date_format(window_start, '%H:%i') AS minute, sum(events) AS events, sum(purchases) AS purchases,
  round(sum(revenue), 2) AS revenue, count(*) AS pages
FROM ${table} GROUP BY 1 ORDER BY 1`,
    },
    {
      title: 'Dwell time of the busiest pages (approximate aggregates)',
      sql: `SELECT page, round(approx_percentile(p95_duration_ms, 0.5)) AS median_p95_ms, max(max_duration_ms) AS max_ms,
  approx_distinct(date_format(window_start, '%H:%i')) AS minutes_active
FROM ${table} GROUP BY page ORDER BY sum(events) DESC, page LIMIT 5`,
    },
  ];
}

/** SQL whose answer is compared with the generator's per-page totals. */
export function perPageCheckSql(table: string): string {
  return `SELECT page, sum(events) AS events, sum(purchases) AS purchases, round(sum(revenue), 2) AS revenue FROM ${table} GROUP BY page ORDER BY page`;
}

/** SQL whose answer is compared with the generator's per-window totals. */
export function perWindowCheckSql(table: string): string {
  return `SELECT strftime(window_start, '%Y-%m-%dT%H:%M:%S.000Z') AS window_start, sum(events) AS events, sum(purchases) AS purchases,
  round(sum(revenue), 2) AS revenue FROM ${table} GROUP BY 1 ORDER BY 1`;
}

/** One difference between the pipeline's answer and the generator's known totals. */
export type Mismatch = string;

/**
 * Compares `(group, events, purchases, revenue)` rows with expected totals; revenue to the cent.
 * Returns one line per difference (empty when the answers match).
 */
export function compareTotals(
  what: string,
  result: QueryResult,
  expected: Readonly<Record<string, { count: number; purchases: number; revenue: number }>>,
): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const seen = new Set<string>();
  for (const [group, events, purchases, revenue] of result.rows) {
    const key = String(group);
    seen.add(key);
    const want = expected[key];
    if (want === undefined) {
      mismatches.push(`${what} ${key}: not in the input`);
      continue;
    }
    if (
      Number(events) !== want.count ||
      Number(purchases) !== want.purchases ||
      Math.abs(Number(revenue) - want.revenue) > 0.005
    ) {
      mismatches.push(
        `${what} ${key}: got ${events} events/${purchases} purchases/${revenue} revenue, expected ${want.count}/${want.purchases}/${want.revenue}`,
      );
    }
  }
  for (const key of Object.keys(expected))
    if (!seen.has(key)) mismatches.push(`${what} ${key}: missing from the results`);
  return mismatches;
}

/** Every check `start` makes against the generator's totals. */
export function checkAnswers(
  totals: ClickstreamTotals,
  perPage: QueryResult,
  perWindow: QueryResult,
  counts: { readonly rejected: number; readonly late: number },
): Mismatch[] {
  const mismatches = [
    ...compareTotals('page', perPage, totals.byPage),
    ...compareTotals('window', perWindow, totals.byWindow),
  ];
  if (counts.rejected !== totals.injected.malformed) {
    mismatches.push(
      `rejected: ${counts.rejected} records, expected the ${totals.injected.malformed} malformed ones`,
    );
  }
  if (counts.late !== totals.injected.late)
    mismatches.push(`late: ${counts.late} records, expected ${totals.injected.late}`);
  return mismatches;
}
