/**
 * Interfaces of the exactly-once state layer (DESIGN.md §3): the keyed state store, the object store the
 * results and side outputs go to, the result encoder, and the slice of a pipeline the apply path needs.
 * Pure: no AWS SDK, no environment, no clock.
 */
import type {
  EpochMillis,
  Fence,
  Json,
  LateRecord,
  PipelineSpec,
  RawRecord,
  Rejection,
  ResultRow,
  ShardProgress,
  StreamRecord,
  WindowBounds,
  WindowPartial,
  WindowStateItem,
  WindowStatus,
  ColumnSpec,
} from '../types';

/** Identifies one keyed window state item inside a pipeline. */
export interface WindowRef {
  readonly key: string;
  readonly window: WindowBounds;
}

/** A window due (or overdue) for emission, as listed by the open-windows index. */
export interface DueWindow extends WindowRef {
  readonly closeAt: EpochMillis;
  readonly status: WindowStatus;
}

/**
 * Pipeline-wide progress: the watermark up to which windows have been closed. Stored next to the shard
 * progress items and only ever raised, so a window once closed stays closed for every later batch.
 */
export interface PipelineProgress {
  readonly pipeline: string;
  /** Highest pipeline watermark at which windows were closed; records for earlier windows are late. */
  readonly closedWatermark: EpochMillis;
}

/** Everything stored for a pipeline's progress, read in one request. */
export interface ProgressSnapshot {
  readonly shards: readonly ShardProgress[];
  readonly pipeline: PipelineProgress | undefined;
}

/**
 * Conditions of a window write. `expectedVersion` undefined means the item must not exist yet.
 * Every shard in `fenceBelow` must have a stored fence strictly below the given sequence number.
 */
export interface WindowWriteCondition {
  readonly expectedVersion: number | undefined;
  readonly fenceBelow: Fence;
  /** The stored status must equal this one. */
  readonly status?: WindowStatus;
}

/** Counters a store keeps so callers can report requests and conflicts (metrics, benchmarks). */
export interface StateStoreStats {
  /** Requests sent to the backend (each BatchGet page, Query page, write and retry counts as one). */
  requests: number;
  /** Conditional writes rejected because the stored item had moved on. */
  conflicts: number;
  /** Throttled requests that were retried. */
  throttles: number;
  /** Window items served from the warm cache instead of the backend. */
  cacheHits: number;
  /** Reads that skipped the cache because cached items kept turning out stale (shared keys across shards). */
  cacheBypasses: number;
}

/**
 * Keyed window state and shard progress with conditional-write semantics (DESIGN.md §3).
 * Implementations: `InMemoryStateStore` (unit tests, bounded runs) and `DynamoDBStateStore`.
 */
export interface StateStore {
  readonly stats: StateStoreStats;
  /** Reads all shard progress items and the pipeline progress of `pipeline` (strongly consistent). */
  readProgress(pipeline: string): Promise<ProgressSnapshot>;
  /**
   * Writes a shard progress item if the stored version still equals `expectedVersion` (undefined: must
   * not exist) and its `lastSequence` is below the new one. Throws `StateConflictError` with the stored item.
   */
  writeShardProgress(progress: ShardProgress, expectedVersion: number | undefined): Promise<ShardProgress>;
  /** Raises the pipeline's closed watermark (never lowers it). Returns the stored value. */
  raiseClosedWatermark(pipeline: string, watermark: EpochMillis): Promise<EpochMillis>;
  /**
   * Reads window items (strongly consistent, or from the warm cache). Missing items are absent from the
   * map. See `ReadWindowsOptions` for refs that skip the read or the cache.
   */
  readWindows(pipeline: string, refs: readonly WindowRef[], options?: ReadWindowsOptions): Promise<Map<string, WindowStateItem>>;
  /**
   * Conditionally writes a whole window item; `closeAt` feeds the open-windows index while the item is not
   * emitted. Throws `StateConflictError` carrying the stored item (or
   * undefined when it does not exist) when the condition fails.
   */
  writeWindow(item: WindowStateItem, condition: WindowWriteCondition, closeAt: EpochMillis): Promise<WindowStateItem>;
  /** Lists windows still open or emitting whose close time is ≤ `closeAtMax`, oldest first. */
  listDueWindows(pipeline: string, closeAtMax: EpochMillis, limit: number): Promise<DueWindow[]>;
  /** Earliest close time of the windows still open or emitting, if any. */
  nextCloseAt(pipeline: string): Promise<EpochMillis | undefined>;
  /** Drops the warm cache (e.g. after an unknown failure). */
  clearCache(): void;
}

/** Where results, archives and side outputs go (an S3 bucket, or memory in tests). */
export interface ObjectStore {
  /** Writes (or overwrites) one object. */
  putObject(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** Keys under `prefix`, in lexicographic order. */
  listKeys(prefix: string): Promise<string[]>;
  deleteObject(key: string): Promise<void>;
}

/** Encodes result rows into one file body (Parquet in production). */
export interface ResultEncoder {
  readonly contentType: string;
  readonly extension: string;
  encode(columns: readonly ColumnSpec[], rows: readonly ResultRow[]): Uint8Array;
}

/** What one shard contributed to a prepared batch. */
export interface ShardBatchSummary {
  /** Highest event time among this shard's accepted records, or null when none. */
  readonly maxEventTime: EpochMillis | null;
  /** Zero-padded highest sequence number of the shard in the batch (accepted or not). */
  readonly lastSequence: string;
  readonly records: number;
}

/** How `StateStore.readWindows` treats particular refs. */
export interface ReadWindowsOptions {
  /**
   * Refs served from the cache only: the caller knows they cannot exist yet (and a create-only write
   * corrects it if they do).
   */
  readonly assumeAbsent?: (ref: WindowRef) => boolean;
  /** Refs read from the table even when cached: the caller decides on their exact stored state. */
  readonly fresh?: (ref: WindowRef) => boolean;
}

/** A decoded and cleaned batch, before it is combined against stored fences. */
export interface PreparedBatch {
  /** Distinct (key, window) pairs the batch contributes to. */
  readonly groups: readonly WindowRef[];
  readonly rejected: readonly Rejection[];
  readonly late: readonly LateRecord[];
  /** Cleaned records, archived to `clean/`. */
  readonly cleaned: readonly StreamRecord<unknown>[];
  readonly shards: Readonly<Record<string, ShardBatchSummary>>;
}

/**
 * The part of a compiled pipeline the exactly-once apply path drives. The engine's pipeline object
 * (`functions/pipelines/index.ts`) satisfies it structurally.
 */
export interface StatefulPipeline {
  readonly spec: PipelineSpec;
  /** Decodes, cleans and windows `records`; windows closing at or before `closedWatermark` make records late. */
  prepare(records: readonly RawRecord[], options: { readonly closedWatermark: EpochMillis }): PreparedBatch;
  /**
   * Aggregates the prepared batch per (key, window), dropping records at or below the fence of their shard
   * and records whose dedupe id the window has already seen (counted in `stats.duplicates` when given).
   */
  combine(
    prepared: PreparedBatch,
    fenceOf: (key: string, window: WindowBounds) => Fence | undefined,
    seenIds?: (key: string, window: WindowBounds) => ReadonlySet<string> | undefined,
    stats?: { duplicates: number },
  ): WindowPartial[];
  /** Merges two serialised aggregate states (associative, commutative). */
  mergeState(a: Readonly<Record<string, Json>>, b: Readonly<Record<string, Json>>): Record<string, Json>;
  /** The result row of a finished window. */
  resultRow(key: string, window: WindowBounds, state: Readonly<Record<string, Json>>, records: number): ResultRow;
  /** Event time at which the pipeline watermark lets `window` close (end + allowed lateness). */
  closeTime(window: WindowBounds): EpochMillis;
}
