import type { Cell, OutputFormat, QueryResult } from './types';

/**
 * Renders a result as an aligned text table (control characters escaped, one line per row), RFC 4180
 * CSV, or a JSON array of row objects.
 * CSV is hand-written because only `csv-parse` (not `csv-stringify`) is a dependency and quoting is
 * a few lines.
 *
 * @example
 * console.log(formatResult(result, 'table'));
 */
export function formatResult(result: QueryResult, format: OutputFormat): string {
  switch (format) {
    case 'csv':
      return formatCsv(result);
    case 'json':
      return formatJson(result);
    default:
      return formatTable(result);
  }
}

function text(cell: Cell): string {
  return cell === null ? 'NULL' : String(cell);
}

/** Short escapes of the control characters a value commonly holds; the others print as `\xHH`. */
const ESCAPES: Readonly<Record<string, string>> = {
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\\': '\\\\',
};

/**
 * Text with every control character (C0, DEL, C1) written visibly as an escape, and every bidirectional
 * formatting character (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) as `\u{…}`: values (keys
 * producers chose) must not move the cursor, rewrite a printed row, drive the terminal, or reorder what a
 * row shows, and one row is one line. A backslash is doubled, so an escape is never ambiguous: a value
 * holding the two characters `\n` prints `\\n`, one holding a line break `\n`.
 */
function visible(value: string): string {
  return value.replace(/[\\\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (c) => {
    const code = c.charCodeAt(0);
    return (
      ESCAPES[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`)
    );
  });
}

function formatTable({ columns: resultColumns, rows }: QueryResult): string {
  const columns = resultColumns.map((c) => ({ ...c, name: visible(c.name) }));
  const cells = rows.map((row) => row.map((c) => visible(text(c))));
  // A reduce, not Math.max(...cells): spreading one argument per row overflows the stack on large results.
  const widths = columns.map((col, i) =>
    cells.reduce((width, r) => Math.max(width, (r[i] ?? '').length), col.name.length),
  );
  const numeric = columns.map(
    (_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number'),
  );
  const line = (values: readonly string[], alignRight: readonly boolean[]): string =>
    values
      .map((v, i) => (alignRight[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join(' | ')
      .trimEnd();
  const header = line(
    columns.map((c) => c.name),
    columns.map(() => false),
  );
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const body = cells.map((r) => line(r, numeric));
  const footer = `(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`;
  return [header, rule, ...body, footer].join('\n');
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function formatCsv({ columns, rows }: QueryResult): string {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const row of rows) lines.push(row.map((c) => (c === null ? '' : csvField(String(c)))).join(','));
  return lines.join('\n');
}

/**
 * Keys of the JSON row objects: a repeated column name (a self-join's `page`, `page`) gets `_1`, `_2`, …
 * as DuckDB names the columns of `CREATE TABLE … AS` (`page`, `page_1`), so no column is lost.
 */
function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    let unique = name;
    for (let n = 1; taken.has(unique); n++) unique = `${name}_${n}`;
    taken.add(unique);
    return unique;
  });
}

/** A JSON value of a cell: NaN and ±Infinity (JSON has none) as the strings Athena writes, not `null`. */
function jsonValue(cell: Cell | undefined): Cell {
  return typeof cell === 'number' && !Number.isFinite(cell) ? String(cell) : (cell ?? null);
}

function formatJson({ columns, rows }: QueryResult): string {
  const names = uniqueNames(columns.map((c) => c.name));
  const objects = rows.map((row) => Object.fromEntries(names.map((name, i) => [name, jsonValue(row[i])])));
  return JSON.stringify(objects, null, 2);
}
