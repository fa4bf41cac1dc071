/**
 * What a pipeline publishes to its downstream stream (DESIGN.md §1): with `.toStream()`, one Kinesis record
 * per value at the end of the operator chain; with `.sink({ toStream })`, one per result row. Each is the JSON
 * `{ id, time, value }` under a partition key. The id is deterministic, so a copy published again (a
 * redelivered batch, a retried put, a close pass run again) is the same record, and the downstream
 * `dedupeBy: (r) => r.id` counts it once.
 */
import { createHash } from 'node:crypto';
import { elementId } from './elementId';
import type { EpochMillis, PipelineSpec, ResultRow, WindowBounds } from '../types';

/**
 * The one stream a pipeline publishes to, if any: its records' (`.toStream()`) or its result rows'
 * (`.sink({ toStream })`); the DSL refuses both.
 */
export function publishStreamOf(spec: PipelineSpec): string | undefined {
  return spec.publish?.stream ?? spec.sink?.toStream;
}

/** A record as a downstream pipeline reads it from a stream another pipeline publishes to. */
export interface PublishedRecord<T = unknown> {
  /** Deterministic id of the value: the same for every copy of it (`publishedId`). */
  readonly id: string;
  /** The upstream record's event time (epoch ms). */
  readonly time: EpochMillis;
  readonly value: T;
}

/** One record to put: its partition key and its JSON text. */
export interface PublishEntry {
  readonly partitionKey: string;
  readonly data: string;
}

/** Kinesis: a partition key has 1..256 characters. */
export const MAX_PARTITION_KEY_CHARS = 256;
/** Kinesis: a record's data and partition key together are at most 1 MiB. */
export const MAX_PUBLISHED_RECORD_BYTES = 1024 * 1024;
/** Ids longer than this are replaced by a digest, so a downstream `dedupeBy` always accepts them (≤ 1,024 bytes). */
const MAX_PLAIN_ID_CHARS = 200;

/** Where a value comes from: its record's position, its `dedupeBy` id, and its index in the record's fan-out. */
export interface ValueOrigin {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number | undefined;
  readonly dedupeId: string | undefined;
  readonly ordinal: number;
}

/**
 * The id of a published value. With `dedupeBy` upstream it is the id the upstream dedupe gives the value
 * (`elementId`: the record's id, `<id>\u0000<n>` for the n-th value of a fan-out), so a producer's duplicate
 * publishes the same id as its first copy; without, the record's position:
 * `<shard>/<sequence>[/<sub-sequence>][#n]`. Ids over 200 characters become `sha256:<hex>` of themselves.
 */
export function publishedId(origin: ValueOrigin): string {
  return boundedId(
    origin.dedupeId !== undefined
      ? elementId(origin.dedupeId, origin.ordinal)
      : `${origin.shardId}/${origin.sequenceNumber}${origin.subSequenceNumber === undefined ? '' : `/${origin.subSequenceNumber}`}${origin.ordinal === 0 ? '' : `#${origin.ordinal}`}`,
  );
}

/**
 * `id`, or `sha256:<hex>` of it when over 200 characters or when it starts with `sha256:` itself (a
 * producer's id cannot pose as the digest of another's long id).
 */
function boundedId(id: string): string {
  return id.length <= MAX_PLAIN_ID_CHARS && !id.startsWith(DIGEST) ? id : `${DIGEST}${sha256(id)}`;
}

const DIGEST = 'sha256:';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The id of a published result row: `<table>/<window start>/<key>` (a key has one window, or one session,
 * starting at a time), so every close pass that emits the row publishes it under the same id. Over 200
 * characters it becomes `sha256:<hex>` of itself.
 */
export function resultId(table: string, windowStart: EpochMillis, key: string): string {
  return boundedId(`${table}/${windowStart}/${key}`);
}

/**
 * The record that publishes a result row: `{ id: resultId, time: window start, value: resultValue(row) }`, under
 * `resultPartitionKey(key)`, so every copy of a row lands on the same downstream shard.
 */
export function resultEntry(
  table: string,
  key: string,
  window: WindowBounds,
  row: ResultRow,
): PublishEntry | { readonly problem: string; readonly oversize: boolean } {
  return publishEntry(
    resultId(table, window.start, key),
    window.start,
    resultValue(row),
    resultPartitionKey(key),
  );
}

/**
 * A result row as plain JSON: bigints as numbers, or as decimal strings beyond 2^53; a double JSON has no
 * number for (a sum beyond the double range, NaN) as the string `"Infinity"`, `"-Infinity"` or `"NaN"`, not
 * the `null` `JSON.stringify` would write (a downstream stage could not tell it from a SQL NULL).
 */
export function resultValue(row: ResultRow): Record<string, string | number | boolean | null> {
  const value: Record<string, string | number | boolean | null> = {};
  for (const [column, v] of Object.entries(row))
    value[column] =
      typeof v === 'number'
        ? Number.isFinite(v)
          ? v
          : String(v)
        : typeof v !== 'bigint'
          ? v
          : v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
            ? Number(v)
            : v.toString();
  return value;
}

/** The partition key of a result row's record: its key, or the key's SHA-256 hex when it cannot be one. */
export function resultPartitionKey(key: string): string {
  return partitionKeyProblem(key) === undefined ? key : sha256(key);
}

/** Why `key` cannot be a partition key, or undefined when it can. */
export function partitionKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'is not a non-empty string';
  if (key.length > MAX_PARTITION_KEY_CHARS)
    return `is ${key.length} characters long (at most ${MAX_PARTITION_KEY_CHARS})`;
  if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed())
    return 'contains a lone UTF-16 surrogate';
  return undefined;
}

/**
 * The record that publishes `value`, or why it cannot be one: a value JSON cannot carry (a bigint, a cycle, a
 * function) or a record over {@link MAX_PUBLISHED_RECORD_BYTES}.
 */
export function publishEntry(
  id: string,
  time: EpochMillis,
  value: unknown,
  partitionKey: string,
): PublishEntry | { readonly problem: string; readonly oversize: boolean } {
  let data: string | undefined;
  try {
    data = JSON.stringify({ id, time, value } satisfies PublishedRecord);
  } catch (err) {
    return { problem: `is not JSON (${err instanceof Error ? err.message : String(err)})`, oversize: false };
  }
  // A value of `undefined` leaves the key out: the downstream schema would not see it.
  if (data === undefined || !data.includes('"value":'))
    return { problem: 'is not JSON (no JSON value)', oversize: false };
  const bytes = Buffer.byteLength(data, 'utf8') + Buffer.byteLength(partitionKey, 'utf8');
  if (bytes > MAX_PUBLISHED_RECORD_BYTES)
    return {
      problem: `is ${bytes} bytes with its envelope and partition key (a Kinesis record holds at most ${MAX_PUBLISHED_RECORD_BYTES})`,
      oversize: true,
    };
  return { partitionKey, data };
}
