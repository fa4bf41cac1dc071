/**
 * The reference side of the clickstream stage tests, in DuckDB SQL: the raw JSON lines of `file` that the
 * stage-1 schemas of the shipped examples accept (duration a non-negative number, a known action, a page, a
 * time), each event id once — as CTEs `lines`, `valid` (every accepted line, copies of an event id included)
 * and `events` (each event id once), for a test to aggregate in its own way. Written
 * independently of the engine, so a test comparing with it can fail.
 */
export function clickEventsSql(file: string): string {
  return `
WITH lines AS (
  SELECT line FROM read_csv('${file}', columns = {'line': 'VARCHAR'}, delim = '\\x01', quote = '', escape = '', header = false)
  WHERE json_valid(line)
), valid AS (
  SELECT line->>'$.eventId' AS event_id, line->>'$.sessionId' AS session, line->>'$.country' AS country,
         line->>'$.page' AS page, line->>'$.action' AS action, (line->>'$.revenue')::DOUBLE AS revenue,
         try_cast(line->>'$.ts' AS TIMESTAMPTZ) AS ts
  FROM lines
  WHERE json_type(line, '$.durationMs') IN ('UBIGINT', 'BIGINT', 'DOUBLE')
    AND try_cast(line->>'$.durationMs' AS DOUBLE) >= 0
    AND (line->>'$.action') IN ('view', 'click', 'add_to_cart', 'purchase')
    AND json_type(line, '$.page') = 'VARCHAR'
    AND try_cast(line->>'$.ts' AS TIMESTAMPTZ) IS NOT NULL
), events AS (
  SELECT * FROM valid QUALIFY row_number() OVER (PARTITION BY event_id) = 1
)`;
}
