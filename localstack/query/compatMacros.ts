/**
 * Athena/Trino functions that DuckDB lacks or spells differently, as DuckDB macros, so the SQL a user
 * writes for Athena runs unchanged on a laptop.
 */

/**
 * MySQL-style `date_format` specifiers (Athena/Trino) rewritten to DuckDB `strftime` ones. Specifiers
 * whose letter means something else in strftime (`%M`, `%W`, `%c`, `%e`, `%i`, `%s`) go through a
 * control-character placeholder first so one rewrite never feeds another.
 */
const sql = (literal: string): string => `'${literal}'`;
const DATE_FORMAT_STEPS: readonly (readonly [string, string])[] = [
  [sql('%%'), 'chr(1)'],
  [sql('%M'), 'chr(2)'],
  [sql('%W'), 'chr(3)'],
  [sql('%c'), 'chr(4)'],
  [sql('%e'), 'chr(5)'],
  [sql('%i'), sql('%M')],
  [sql('%s'), sql('%S')],
  [sql('%h'), sql('%I')],
  [sql('%k'), sql('%-H')],
  [sql('%l'), sql('%-I')],
  [sql('%r'), sql('%I:%M:%S %p')],
  [sql('%T'), sql('%H:%M:%S')],
  ['chr(2)', sql('%B')],
  ['chr(3)', sql('%A')],
  ['chr(4)', sql('%-m')],
  ['chr(5)', sql('%-d')],
  ['chr(1)', sql('%%')],
];

function strftimeFormat(parameter: string): string {
  return DATE_FORMAT_STEPS.reduce((expr, [from, to]) => `replace(${expr}, ${from}, ${to})`, parameter);
}

/** `CREATE MACRO` statements, run once per connection. */
export const COMPAT_MACROS: readonly string[] = [
  // Trino: approx_percentile(x, p) with p in [0, 1].
  'CREATE OR REPLACE MACRO approx_percentile(x, p) AS approx_quantile(x, p)',
  // Trino: approx_distinct(x) (HyperLogLog).
  'CREATE OR REPLACE MACRO approx_distinct(x) AS approx_count_distinct(x)',
  // Trino: from_unixtime(seconds) → timestamp (UTC).
  'CREATE OR REPLACE MACRO from_unixtime(x) AS CAST(to_timestamp(x) AS TIMESTAMP)',
  // Trino: to_unixtime(timestamp) → double seconds.
  'CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(CAST(t AS TIMESTAMP))',
  // Trino/MySQL: date_format(timestamp, '%Y-%m-%d %H:%i:%s').
  // No CAST on `t`: a typed first argument makes DuckDB bind strftime at CREATE time, when `fmt` is not
  // yet a constant. (For the same reason there is no `date_parse` macro over strptime.)
  `CREATE OR REPLACE MACRO date_format(t, fmt) AS strftime(t, ${strftimeFormat('fmt')})`,
];
