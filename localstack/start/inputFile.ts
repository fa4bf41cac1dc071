import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { InputError } from './errors';

/** Input formats of `send` and `run --input`, chosen by file extension. */
export const INPUT_FORMATS = { JSONL: 'jsonl', CSV: 'csv', PARQUET: 'parquet' } as const;
export type InputFormat = (typeof INPUT_FORMATS)[keyof typeof INPUT_FORMATS];

const EXTENSIONS: Readonly<Record<string, InputFormat>> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

/** One record to put on a stream. */
export interface InputRecord {
  /** The payload, UTF-8 text (a JSON document for CSV and Parquet input). */
  readonly data: string;
  readonly partitionKey: string;
}

/** The format of a file from its extension. */
export function detectFormat(path: string): InputFormat {
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new InputError(`Unknown input format for ${path}: use .jsonl/.ndjson/.json, .csv or .parquet`);
  }
  return format;
}

/**
 * Refuses a `--key` no record has: each record would get a key of its own (`record-<n>`), spreading a
 * producer's retries over shards where dedupe cannot meet them, without a word. A typo, say so before
 * anything is sent. Records without the field are fine while some have it (malformed ones lack it).
 */
export function assertKeyFieldUsed(records: readonly InputRecord[], keyField: string, input: string): void {
  if (records.length === 0 || records.some((r, i) => r.partitionKey !== `record-${i}`)) return;
  throw new InputError(
    `No record of ${input} has a field ${keyField} (--key) holding a string or number: check the name, or leave --key out for one key per record`,
  );
}

/** Partition key: the value of `keyField` when the record has a scalar there, else a per-record key. */
export function partitionKeyOf(value: unknown, keyField: string | undefined, index: number): string {
  if (keyField !== undefined && typeof value === 'object' && value !== null) {
    const field = (value as Record<string, unknown>)[keyField];
    if (
      (typeof field === 'string' && field !== '') ||
      typeof field === 'number' ||
      typeof field === 'bigint'
    ) {
      return String(field).slice(0, 256);
    }
  }
  return `record-${index}`;
}

/**
 * The lines of a text input: a leading UTF-8 byte order mark (which some editors save) dropped, as the CSV
 * parser drops it, so the first record is read like the others; the empty piece after a final newline is
 * not a line.
 */
export function textLines(text: string): string[] {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * JSON Lines: each non-blank line is sent as-is — even when it is not valid JSON, because rejecting bad
 * records is the pipeline's job (they go to `rejected/`), not the producer's.
 */
export function parseJsonLines(text: string, keyField?: string): InputRecord[] {
  const records: InputRecord[] = [];
  for (const line of textLines(text)) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = keyField === undefined ? undefined : JSON.parse(line);
    } catch {
      value = undefined;
    }
    records.push({ data: line, partitionKey: partitionKeyOf(value, keyField, records.length) });
  }
  return records;
}

/** Numbers without a leading zero become JSON numbers; everything else stays text (ids like `007`). */
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** CSV with a header row: each row becomes a JSON object keyed by the header. */
export function parseCsv(text: string, keyField?: string): InputRecord[] {
  let rows: Record<string, string>[];
  try {
    rows = parseCsvSync(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<
      string,
      string
    >[];
  } catch (error) {
    throw new InputError(`Invalid CSV: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  return rows.map((row, index) => {
    const value = Object.fromEntries(
      Object.entries(row).map(([k, v]) => [k, v === '' ? null : NUMBER.test(v) ? Number(v) : v]),
    );
    return { data: JSON.stringify(value), partitionKey: partitionKeyOf(value, keyField, index) };
  });
}

/** JSON for Parquet values (a `JSON.stringify` replacer): safe BigInts as numbers (others as text), dates as ISO-8601. */
export function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/** Parquet: each row becomes a JSON object (read with hyparquet, ESM, hence the dynamic import). */
export async function readParquet(path: string, keyField?: string): Promise<InputRecord[]> {
  const { parquetReadObjects } = await import('hyparquet');
  const bytes = await readFile(path);
  let rows: Record<string, unknown>[];
  try {
    // An ArrayBuffer is a valid hyparquet AsyncBuffer.
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    rows = await parquetReadObjects({ file });
  } catch (error) {
    throw new InputError(`Invalid Parquet file ${path}: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
  return rows.map((row, index) => ({
    data: JSON.stringify(row, jsonValue),
    partitionKey: partitionKeyOf(row, keyField, index),
  }));
}

/**
 * Reads a whole input file into records (the CLI's inputs are bounded files that fit in memory).
 *
 * @throws InputError when the file is missing, unreadable, of unknown format or does not parse.
 */
export async function readInputFile(path: string, keyField?: string): Promise<InputRecord[]> {
  return (await readInput(path, keyField)).records;
}

/** What a bounded input holds: its records, and the blank lines skipped (so counts add up to the lines). */
export interface InputRead {
  readonly records: InputRecord[];
  /** Lines with nothing but whitespace (JSON Lines, CSV); the final newline ends a line, it is not one. */
  readonly blankLines: number;
}

/** Blank lines of a text file: whitespace-only lines, not counting the empty piece after a final newline. */
export function countBlankLines(text: string): number {
  return textLines(text).filter((line) => line.trim() === '').length;
}

/** Like {@link readInputFile}, also counting the blank lines it skipped. */
export async function readInput(path: string, keyField?: string): Promise<InputRead> {
  const format = detectFormat(path);
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputError(`Input is not a file: ${path}`);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`Input file not found: ${path}`, { cause: error });
  }
  if (format === 'parquet') return { records: await readParquet(path, keyField), blankLines: 0 };
  const text = await readFile(path, 'utf8');
  const records = format === 'csv' ? parseCsv(text, keyField) : parseJsonLines(text, keyField);
  return { records, blankLines: countBlankLines(text) };
}
