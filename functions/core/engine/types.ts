import type {
  EpochMillis,
  Fence,
  Json,
  LateRecord,
  Rejection,
  ResultRow,
  WindowBounds,
  WindowPartial,
} from '../types';
import type { RawRecord, StreamRecord } from '../types';
import type { PublishEntry } from './streamTap';

/** A record that passed decoding, schema validation and event-time extraction (for the `clean/` archive). */
export interface CleanedRecord {
  readonly shardId: string;
  /** The sequence number as Kinesis gave it (not padded). */
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number;
  readonly partitionKey: string;
  readonly eventTime: EpochMillis;
  /** The value as the schema produced it (before map/filter/flatMap). */
  readonly value: unknown;
}

/** What one batch did to one shard. */
export interface ShardBatchSummary {
  /** Max valid event time of the shard's cleaned records in this batch, or null if none. */
  readonly maxEventTime: EpochMillis | null;
  /** Zero-padded highest sequence number of the shard in this batch (every record, even rejected). */
  readonly lastSequence: string;
  /** Number of Kinesis records of the shard in this batch. */
  readonly records: number;
}

/** One value after the operator chain, routed to a key, with its aggregate inputs. Internal to the engine. */
export interface RoutedElement {
  readonly shardId: string;
  /** Sequence number of the Kinesis record it came from, without leading zeros (not padded). */
  readonly sequence: string;
  readonly eventTime: EpochMillis;
  readonly key: string;
  /** Aggregate inputs, in aggregate column order. */
  readonly inputs: readonly unknown[];
  readonly dedupeId: string | undefined;
  /** Windows that are still open (late windows went to `late`). */
  readonly windows: readonly WindowBounds[];
}

/** What the state layer reads of a prepared batch (a pipeline it drives may prepare no more than this). */
export interface PreparedRecords {
  /** Distinct (key, window) pairs the batch touches (sessions: merged within the batch). */
  readonly groups: readonly { readonly key: string; readonly window: WindowBounds }[];
  readonly rejected: readonly Rejection[];
  readonly late: readonly LateRecord[];
  /** Cleaned records, archived to `clean/`. */
  readonly cleaned: readonly StreamRecord<unknown>[];
  /**
   * The records `.toStream()` publishes for this batch's records that were not rejected, in record order
   * (empty without `.toStream()`): put once the batch commits.
   */
  readonly published: readonly PublishEntry[];
  readonly shards: Readonly<Record<string, ShardBatchSummary>>;
  /**
   * Per operator of the chain (map, filter, flatMap, in order): values in and values passed on (a filter's
   * kept, a flatMap's elements). Empty without operators.
   */
  readonly operators: readonly (readonly [valuesIn: number, valuesOut: number])[];
}

/** Output of `prepare`: everything the state layer needs before reading state, and the routed values. */
export interface PreparedBatch extends PreparedRecords {
  readonly cleaned: readonly CleanedRecord[];
  /** Routed values for `combine`; treat as opaque. */
  readonly elements: readonly RoutedElement[];
}

/** Options of `prepare`. */
export interface PrepareOptions {
  /**
   * The pipeline watermark known before this batch (stored). A record whose window has
   * `closeTime ≤ closedWatermark` is late. Use `-Infinity` when nothing is known.
   */
  readonly closedWatermark: EpochMillis;
}

/** Looks up the stored fence of a (key, window); undefined when there is no stored item. */
export type FenceLookup = (key: string, window: WindowBounds) => Fence | undefined;
/** Looks up dedupe ids already applied to a (key, window). */
export type SeenIdsLookup = (key: string, window: WindowBounds) => ReadonlySet<string> | undefined;

/** Counters `combine` adds to when given one. */
export interface CombineStats {
  /** Records dropped because their dedupe id was already seen (stored, or earlier in the batch); once per record. */
  duplicates: number;
}

/** A compiled pipeline: the definition (`spec`) and the pure batch path. */
export interface Pipeline<T = unknown> {
  readonly spec: import('../types').PipelineSpec;
  /** Decodes, cleans, runs the operator chain, keys and assigns windows; never throws for a bad record. */
  prepare(records: readonly RawRecord[], options: PrepareOptions): PreparedBatch;
  /** Like `prepare`, for already-parsed JSON values (bounded input); positions are synthesised by the caller. */
  prepareValues(values: readonly PositionedValue[], options: PrepareOptions): PreparedBatch;
  /** Aggregates the prepared elements per (key, window), skipping fenced and already-seen records. */
  combine(
    prepared: PreparedBatch,
    fence: FenceLookup,
    seenIds?: SeenIdsLookup,
    stats?: CombineStats,
  ): WindowPartial[];
  /** Merges two serialised states column by column. */
  mergeState(a: Readonly<Record<string, Json>>, b: Readonly<Record<string, Json>>): Record<string, Json>;
  /** The result row of a closed window, columns in `spec.columns` order. */
  resultRow(
    key: string,
    window: WindowBounds,
    state: Readonly<Record<string, Json>>,
    records: number,
  ): ResultRow;
  /** When a window may close: `end + allowedLateness` (closed iff watermark ≥ closeTime). */
  closeTime(window: WindowBounds): EpochMillis;
  /** True when the window is closed at `watermark`. */
  isClosed(window: WindowBounds, watermark: EpochMillis): boolean;
  /** Phantom member carrying the value type; always undefined at runtime. */
  readonly valueType?: T;
}

/** A JSON value with a synthetic position, for bounded runs. */
export interface PositionedValue {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly value: unknown;
  /** Defaults to +Infinity (no upper bound on event time). */
  readonly approximateArrivalTimestamp?: EpochMillis;
}
