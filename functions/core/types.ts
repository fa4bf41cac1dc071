/**
 * The interfaces of the shardflow engine, in one place (STYLE.md principle 1). Everything else in
 * `functions/` implements or consumes these. This module is pure: no AWS SDK, no environment, no clock.
 */

import type { StreamViewType } from './tableChange';

/** Epoch milliseconds (UTC). */
export type EpochMillis = number;

/** A Kinesis record as the engine sees it before decoding: the transport-independent shape. */
export interface RawRecord {
  readonly shardId: string;
  /** Kinesis sequence number: a decimal string of up to 128 bits. */
  readonly sequenceNumber: string;
  /** Sub-sequence inside a KPL aggregated record; 0 for plain records. */
  readonly subSequenceNumber?: number;
  readonly partitionKey: string;
  /** Payload, base64 encoded exactly as in a `KinesisStreamEvent`. */
  readonly data: string;
  readonly approximateArrivalTimestamp: EpochMillis;
  /**
   * Set by an edge that could not turn its transport's record into a payload (a DynamoDB stream record
   * without the image its view carries, without a valid time): the record goes to `rejected/` with this
   * reason, fenced like any other, and its shard moves on.
   */
  readonly rejection?: { readonly reason: RejectReason; readonly detail: string };
}

/** A decoded, cleaned record flowing through the operator chain. */
export interface StreamRecord<T> {
  readonly value: T;
  readonly eventTime: EpochMillis;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Why a record went to the dead-letter prefix (`rejected/`). Machine readable. */
export const REJECT_REASONS = {
  INVALID_BASE64: 'INVALID_BASE64',
  INVALID_UTF8: 'INVALID_UTF8',
  INVALID_JSON: 'INVALID_JSON',
  EMPTY_RECORD: 'EMPTY_RECORD',
  OVERSIZE_RECORD: 'OVERSIZE_RECORD',
  TOO_DEEPLY_NESTED: 'TOO_DEEPLY_NESTED',
  SCHEMA_VIOLATION: 'SCHEMA_VIOLATION',
  MISSING_EVENT_TIME: 'MISSING_EVENT_TIME',
  ABSURD_EVENT_TIME: 'ABSURD_EVENT_TIME',
  /** Event time further ahead of the record's arrival than the pipeline's `maxEventTimeAhead`. */
  EVENT_TIME_AHEAD: 'EVENT_TIME_AHEAD',
  INVALID_KPL_AGGREGATE: 'INVALID_KPL_AGGREGATE',
  OPERATOR_THREW: 'OPERATOR_THREW',
  OPERATOR_RETURNED_INVALID: 'OPERATOR_RETURNED_INVALID',
  INVALID_KEY: 'INVALID_KEY',
  /**
   * The record's own state cannot fit one DynamoDB transaction (4 MB) or its shard's progress item (400 KB):
   * dead-lettered naming the limit instead of failing its batch for ever.
   */
  STATE_LIMIT: 'STATE_LIMIT',
  /** A table change the edge could not read (a missing image, time or sequence number; see `tableChange.ts`). */
  INVALID_CHANGE_RECORD: 'INVALID_CHANGE_RECORD',
} as const;
export type RejectReason = (typeof REJECT_REASONS)[keyof typeof REJECT_REASONS];

/** A record that could not be processed; written to `rejected/` with everything needed to replay it. */
export interface Rejection {
  readonly reason: RejectReason;
  /** Human-readable detail (e.g. the zod issue path and message, the operator name and error). */
  readonly detail: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number;
  readonly partitionKey: string;
  /** The original base64 payload (truncated to a bounded size for oversize records). */
  readonly data: string;
}

/** A record that arrived for a window that had already closed; written to `late/`, never dropped. */
export interface LateRecord<T = unknown> {
  readonly key: string;
  readonly windowStart: EpochMillis;
  readonly windowEnd: EpochMillis;
  readonly eventTime: EpochMillis;
  readonly watermark: EpochMillis;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly value: T;
}

/** A window instance: `[start, end)` in event time. */
export interface WindowBounds {
  readonly start: EpochMillis;
  readonly end: EpochMillis;
}

/** Serialisable window definition carried by a pipeline (and read by the CDK stack). */
export type WindowSpec =
  | { readonly kind: 'tumbling'; readonly sizeMs: number }
  | { readonly kind: 'sliding'; readonly sizeMs: number; readonly slideMs: number }
  | { readonly kind: 'session'; readonly gapMs: number };

/** Event-time settings of a windowed pipeline (DESIGN.md §2). */
export interface TimeSpec {
  /** Window closes when the pipeline watermark passes `end + allowedLatenessMs`. */
  readonly allowedLatenessMs: number;
  /** Per-shard watermark = max event time seen − maxOutOfOrdernessMs. */
  readonly maxOutOfOrdernessMs: number;
  /** A shard with no records for this long stops holding the pipeline watermark back. */
  readonly idleTimeoutMs: number;
  /** Records whose event time is further ahead of their arrival are rejected (`EVENT_TIME_AHEAD`). */
  readonly maxEventTimeAheadMs: number;
}

/** JSON value: what aggregate state serialises to (stored in DynamoDB items, ≤ 400 KB). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Column types of result tables; map 1:1 to Parquet logical types and Glue/Athena types. */
export type ColumnType = 'string' | 'bigint' | 'double' | 'boolean' | 'timestamp' | 'json';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** TSDoc-level description, carried into the Glue table comment. */
  readonly comment?: string;
}

/**
 * A mergeable aggregate (combine within a batch, then merge into stored state).
 * `S` is mutable in-memory state; `serialize`/`deserialize` give its compact stored form.
 */
export interface Aggregate<In, S, Out> {
  /** e.g. `count`, `sum`, `percentile`. */
  readonly kind: string;
  readonly outputType: ColumnType;
  /** Stated error bound of an approximate aggregate, e.g. `relative error ≤ 1%`; absent when exact. */
  readonly errorBound?: string;
  /**
   * Parameters that shape the stored state (e.g. top-k's k, a sketch's accuracy), part of the pipeline's
   * state fingerprint (`state/stateFingerprint.ts`): a change of them makes stored state unreadable.
   * Absent when none (a result-only parameter such as a percentile's quantile is not one).
   */
  readonly params?: Readonly<Record<string, Json>>;
  create(): S;
  /** Adds one input value; may mutate and return `state`. */
  add(state: S, input: In): S;
  /** Merges `other` into `state`; may mutate and return `state`. Must be associative and commutative. */
  merge(state: S, other: S): S;
  serialize(state: S): Json;
  deserialize(stored: Json): S;
  result(state: S): Out;
}

/** Sequence-number high-water marks per shard: shardId → zero-padded sequence number. */
export type Fence = Readonly<Record<string, string>>;

/**
 * The partial aggregates a batch contributes to one (key, window), with the highest sequence number
 * per shard that contributed (used to fence redeliveries).
 */
export interface WindowPartial {
  readonly key: string;
  readonly window: WindowBounds;
  /** Serialised state per output aggregate column name. */
  readonly state: Readonly<Record<string, Json>>;
  /** Number of input records that contributed. */
  readonly records: number;
  /** Max contributing (zero-padded) sequence number per shard. */
  readonly maxSequence: Fence;
  /**
   * Dedupe ids newly applied by this partial (only when the pipeline has `dedupeBy`); the state layer
   * stores them with the window so a redelivered duplicate is skipped (`seenIds` in `combine`).
   */
  readonly dedupeIds?: readonly string[];
}

/** An injectable source of processing time (ticks, idle detection, TTLs). */
export interface Clock {
  now(): EpochMillis;
}

/** Status of a keyed window state item (DESIGN.md §3). */
export const WINDOW_STATUS = { OPEN: 'open', EMITTING: 'emitting', EMITTED: 'emitted' } as const;
export type WindowStatus = (typeof WINDOW_STATUS)[keyof typeof WINDOW_STATUS];

/** One stored keyed window state item. */
export interface WindowStateItem {
  readonly pipeline: string;
  readonly key: string;
  readonly window: WindowBounds;
  readonly state: Readonly<Record<string, Json>>;
  readonly records: number;
  readonly fence: Fence;
  readonly version: number;
  readonly status: WindowStatus;
  /** Set when status leaves `open`. */
  readonly emissionId?: string;
  /**
   * Hashes of the dedupe ids applied to this window (pipelines with `dedupeBy`), oldest first, so
   * producer duplicates are skipped (the state layer stores 64-bit hashes, see `dedupeHash`).
   */
  readonly seenIds?: readonly string[];
  /** Epoch seconds at which DynamoDB may expire the item. */
  readonly ttl: number;
}

/** Per-shard progress item (DESIGN.md §3): watermark and high-water marks, fenced like window items. */
export interface ShardProgress {
  readonly pipeline: string;
  readonly shardId: string;
  /** max event time seen − maxOutOfOrderness; -Infinity is stored as null. */
  readonly watermark: EpochMillis | null;
  readonly maxEventTime: EpochMillis | null;
  /** Zero-padded last applied sequence number. */
  readonly lastSequence: string;
  /** Zero-padded high-water mark of records archived to `clean/`. */
  readonly archivedSequence: string;
  /** Processing time of the last record seen (for idle detection). */
  readonly lastActivity: EpochMillis;
  /** True once the shard is closed (resharding) and fully processed; it no longer holds the watermark. */
  readonly closed: boolean;
  readonly version: number;
}

/** One finished window row, as written to Parquet. */
export type ResultRow = Readonly<Record<string, string | number | bigint | boolean | null>>;

/** Serialisable description of a pipeline: everything the CDK stack and the local cloud need. */
export interface PipelineSpec {
  readonly name: string;
  readonly source: {
    /** Kinesis stream name; for a table source, the table's name (its side outputs are filed under it). */
    readonly stream: string;
    /** Provisioned shard count; absent means on-demand (and always for a table source). */
    readonly shards?: number;
    /** Present when the source is a DynamoDB table's stream (change data capture), not a Kinesis stream. */
    readonly table?: { readonly view: StreamViewType };
  };
  /** The windows; absent for a publish-only pipeline (one that ends in `.toStream()`). */
  readonly window?: WindowSpec;
  readonly time: TimeSpec;
  /**
   * The result table, and the stream its rows are also published to (`.sink({ toStream })`), if any; absent
   * for a publish-only pipeline.
   */
  readonly sink?: { readonly table: string; readonly toStream?: string };
  /** The stream the pipeline publishes its cleaned and transformed values to (`.toStream()`), if any. */
  readonly publish?: { readonly stream: string };
  /** Result columns in order: the key column, window_start, window_end, then one per aggregate. */
  readonly columns: readonly ColumnSpec[];
  /** Error bounds of the approximate aggregate columns, by column name. */
  readonly errorBounds: Readonly<Record<string, string>>;
}
