/**
 * Interfaces of the exactly-once state layer (DESIGN.md §3): the state store, the object store the results
 * and side outputs go to, the result encoder, and the slice of a pipeline the apply path needs.
 * Pure: no AWS SDK, no environment, no clock.
 *
 * The layout (see functions/core/README.md): each shard commits each batch as one immutable segment (every
 * key's partial state of every window the batch touched, compressed, split into ≤ 350 KB chunks) together
 * with its progress item, in one transaction. No item is written by two shards. A window is emitted when
 * every shard has frozen it: the closer merges the window's partials from the segments of every shard into
 * one Parquet object.
 */
import type { PreparedRecords } from '../engine/types';
import type {
  ColumnSpec,
  EpochMillis,
  Json,
  PipelineSpec,
  RawRecord,
  ResultRow,
  WindowBounds,
  WindowPartial,
} from '../types';
import type { StateShape } from './stateFingerprint';

/** A window a shard has committed partials to that is not emitted yet, and the commits that hold them. */
export interface PendingWindow {
  readonly start: EpochMillis;
  readonly end: EpochMillis;
  readonly firstCommit: number;
  readonly lastCommit: number;
}

/**
 * A shard's progress item: its commit point. Every record at or below `lastSequence` is applied (in a
 * segment, or rejected or late). Only the shard's own commits write it, except that a close pass may raise
 * `frozen` of a shard that has been idle for `idleTimeout` (which would otherwise hold every window open).
 */
export interface ShardProgress {
  readonly pipeline: string;
  readonly shardId: string;
  /** max event time (capped at arrival) − maxOutOfOrderness; null before any record. */
  readonly watermark: EpochMillis | null;
  readonly maxEventTime: EpochMillis | null;
  /** Zero-padded sequence number of the last applied record. */
  readonly lastSequence: string;
  /** Processing time of the last commit with records (idle detection). */
  readonly lastActivity: EpochMillis;
  /** True once the shard is closed (resharding) and fully processed: it no longer holds windows open. */
  readonly closed: boolean;
  /**
   * The shard's close mark: it adds nothing more to a window whose close time is at or below it (its records
   * for such a window are late). -Infinity before any close.
   */
  readonly frozen: EpochMillis;
  /** The close mark in window ends, whatever the lateness (`closeableThrough.ts`); absent on older items. */
  readonly closedEnd?: EpochMillis;
  /** Number of the last segment the shard committed (0: none). */
  readonly commits: number;
  /**
   * `[commit, attempt, expiresAt]` of the commits whose segment is not attempt 0 (`segmentAttempts.ts`;
   * `expiresAt`: the segment's TTL, epoch seconds), from commit `attemptsFrom` (default 1) on; absent when
   * there are none.
   */
  readonly attempts?: readonly (readonly [commit: number, attempt: number, expiresAt: number])[];
  readonly attemptsFrom?: number;
  /** Windows with partials in this shard's segments that are not emitted yet, oldest close first. */
  readonly pending: readonly PendingWindow[];
  /** What names the side outputs of the last commit (its first record's arrival time dates the sweep). */
  readonly outputs?: CommitOutputs;
  /** How far the side outputs of attempts that did not commit are swept (`outputSweep.ts`). */
  readonly sweep?: OutputSweep;
  /**
   * The shards this one was split or merged from (resharding), when known: a producer retry that lands on
   * this shard after its first copy landed on a parent is still caught by dedupe.
   */
  readonly parents?: readonly string[];
  /**
   * The shard's records dead-lettered `STATE_LIMIT` (a record whose state alone does not fit one commit):
   * `[zero-padded sequence number, expiresAt]`, `expiresAt` the epoch seconds its commit's segment expires
   * (after which the range cannot be replayed); the latest `MAX_STATE_LIMITED` unexpired (`commitBuilder.ts`),
   * oldest first. Their values are not published (`.toStream()`), so publishing derived again for a
   * redelivery or a replay of committed records (`publishedAgain`) leaves them out too. Absent when none.
   */
  readonly stateLimited?: readonly (readonly [sequence: string, expiresAt: number])[];
  /** What the shard's commits so far did with their records (exactly once: counted in the commit). */
  readonly counts?: ShardCounts;
  /**
   * State fingerprint (`stateFingerprint.ts`) of the definition that made the shard's last commit; absent on
   * items written before fingerprints were stored, and on a shard's item the tick registered.
   */
  readonly shape?: string;
  readonly version: number;
}

/** Records a shard's commits took in and what became of them; `records − rejected − late − duplicates` reached window state (or a filter dropped them). */
export interface ShardCounts {
  readonly records: number;
  readonly rejected: number;
  readonly late: number;
  /** Producer duplicates dropped by `dedupeBy` (each extra copy once). */
  readonly duplicates: number;
  /**
   * Values the commits put (`.toStream()`; stored as `outPublished`), absent when none: each committed value
   * once, copies a redelivered batch publishes again not counted, but producer duplicates counted as values
   * where nothing drops them (a publish-only stage keeps no dedupe state: with `dedupeBy` it publishes a
   * duplicate again under its first copy's id, and the reading stage drops it).
   */
  readonly published?: number;
  /** Per operator of the chain, in order: values in and values passed on (absent without operators). */
  readonly operators?: readonly (readonly [valuesIn: number, valuesOut: number])[];
}

/** The name of a commit's side-output objects: its first record and the close mark it judged by. */
export interface CommitOutputs {
  /** Zero-padded sequence number of the commit's first record (its last is the progress' `lastSequence`). */
  readonly firstSequence: string;
  /** Arrival time of the first record: the objects' partition. */
  readonly time: EpochMillis;
  /** The close mark the commit's late records were judged by. */
  readonly judgedBy: EpochMillis;
}

/** The pipeline item: written by close passes only. */
export interface PipelineProgress {
  readonly pipeline: string;
  /**
   * Raised by a close pass before it emits (to the lowest shard `frozen`): the starting `frozen` of a shard
   * that commits for the first time, so a new shard cannot add to an emitted window.
   */
  readonly closedWatermark: EpochMillis;
  /** Raised with it: the lowest shard `closedEnd`, where a new shard's starts; absent on older items. */
  readonly closedEnd?: EpochMillis;
  /**
   * The last close pass's mark: every window whose close time under the definition that emitted it is at or
   * below this is emitted (session pipelines: every session whose close time — its end plus the gap plus the
   * allowed lateness — is). Which windows are emitted is `emittedEnd`'s to say: the lateness may change.
   */
  readonly emittedThrough: EpochMillis;
  /**
   * Every window ending at or before this is emitted (session pipelines: every session whose end plus the
   * gap is), whatever allowed lateness the running definition has: `pendingWindows.ts` (`emittedEndOf`).
   * Absent on items written before it was kept: `emittedThrough` minus the running lateness.
   */
  readonly emittedEnd?: EpochMillis;
  /**
   * Session pipelines: no fragment of a session still to emit starts before this, and no new one can: a
   * shard drops from its pending list the buckets that end at or before it.
   */
  readonly sessionFloor?: EpochMillis;
}

/** The marks of the pipeline item a close pass raises. */
export interface PipelineMarks {
  readonly closedWatermark?: EpochMillis;
  readonly closedEnd?: EpochMillis;
  readonly emittedThrough?: EpochMillis;
  readonly emittedEnd?: EpochMillis;
  readonly sessionFloor?: EpochMillis;
}

/** Everything stored for a pipeline's progress, read in one request. */
export interface ProgressSnapshot {
  readonly shards: readonly ShardProgress[];
  readonly pipeline: PipelineProgress | undefined;
  /**
   * The state shapes registered for the pipeline, by fingerprint (`registerShape`); undefined for one whose
   * stored text is not a readable shape. Absent when none were read.
   */
  readonly shapes?: ReadonlyMap<string, StateShape | undefined>;
}

/** One key's partial state in one window, as a commit contributes it. */
export interface KeyPartial {
  readonly key: string;
  readonly records: number;
  /** Serialised state per aggregate column. */
  readonly state: Readonly<Record<string, Json>>;
  /** Session pipelines: the bounds of this session fragment (its window is the bucket it starts in). */
  readonly session?: WindowBounds;
}

/** What one commit adds to one window: every key's partial, sorted by key. */
export interface WindowContribution {
  readonly window: WindowBounds;
  readonly partials: readonly KeyPartial[];
}

/** The decoded content of a segment. */
export interface SegmentContent {
  readonly windows: readonly WindowContribution[];
  /** 64-bit hashes (`dedupeHash`: 8 Latin-1 characters) of the dedupe ids this commit applied (pipelines with `dedupeBy`). */
  readonly dedupeHashes: readonly string[];
}

/** One commit of one shard, as stored: immutable once written. */
export interface Segment {
  readonly pipeline: string;
  readonly shardId: string;
  /** The commit's number in its shard (1, 2, …). */
  readonly commit: number;
  /** Which write of the commit's segment this is (`segmentAttempts.ts`): 0 unless an earlier one was left behind. */
  readonly attempt: number;
  /** Zero-padded first and last sequence numbers of the records the commit applied. */
  readonly firstSequence: string;
  readonly lastSequence: string;
  /** `SegmentContent`, encoded by `segmentCodec` (compressed). */
  readonly body: Uint8Array;
  /**
   * The close mark that judged the commit's late records (it names its `late/` object): with it, an attempt
   * that lost this commit's place can tell its own side outputs from the commit's. Absent on old segments.
   */
  readonly judgedBy?: EpochMillis;
  /**
   * State fingerprint of the definition that wrote the segment (`stateFingerprint.ts`): a close pass merges
   * it only under a definition that reads that shape. Absent on segments written before fingerprints were.
   */
  readonly shape?: string;
  /** Epoch seconds at which DynamoDB may expire it. */
  readonly ttl: number;
}

/**
 * A shard's commit: its new progress item, conditioned on the stored version, naming the batch's segment
 * (written before by `writeSegment`).
 */
export interface ShardCommit {
  readonly progress: ShardProgress;
  /** Stored version the commit builds on; undefined when the shard has no item yet. */
  readonly expectedVersion: number | undefined;
  /**
   * For a shard's first item: the pipeline's `closedWatermark` its `frozen` starts from. The commit fails
   * (`StateConflictError`) if a close pass raised it meanwhile.
   */
  readonly closedWatermarkRead?: EpochMillis;
  /** With it: the pipeline's `closedEnd` read (undefined: none); the commit fails if it moved meanwhile. */
  readonly closedEndRead?: EpochMillis;
  readonly segment?: Segment;
  /** The commit adds window state: its progress leaves `PROGRESS_RESERVE_BYTES` free (`checkProgress`). */
  readonly addsState?: boolean;
}

/**
 * The sweep mark of a shard's side outputs (`outputSweep.ts`): commits up to `swept` have had what other
 * attempts at their records left behind removed; commits up to `target`, the shard's count at wall time
 * `targetAt`, are swept once no attempt that started before then can still be writing. Objects are
 * partitioned by the arrival time of their first record, so the mark keeps the range of those times over
 * the commits after `swept` up to `target` (`due`) and over the commits after `target` (`next`).
 */
export interface OutputSweep {
  readonly swept: number;
  readonly target: number;
  readonly targetAt: EpochMillis;
  readonly due: TimeRange;
  readonly next: TimeRange;
}

/** Earliest and latest of some arrival times. */
export interface TimeRange {
  readonly from: EpochMillis;
  readonly to: EpochMillis;
}

/** What the commit log says about one commit: the records it applied and the close mark that judged them. */
export interface CommitRange {
  readonly commit: number;
  readonly firstSequence: string;
  readonly lastSequence: string;
  readonly judgedBy?: EpochMillis;
}

/** Counters a store keeps so callers can report requests and conflicts (metrics, benchmarks). */
export interface StateStoreStats {
  /** Requests sent to the backend (each Query page, write, transaction and retry counts as one). */
  requests: number;
  /** Conditional writes or transactions rejected because the stored item had moved on. */
  conflicts: number;
  /** Throttled requests that were retried. */
  throttles: number;
  /** Write units of the items written (⌈item bytes / 1 KB⌉ each, doubled inside transactions). */
  writeUnits: number;
  /** Read units of the items read (⌈bytes / 4 KB⌉ per strongly consistent read). */
  readUnits: number;
}

/**
 * The state layout of DESIGN.md §3 with its conditional semantics. Implementations: `InMemoryStateStore`
 * (unit tests, bounded runs, the fault suite) and `DynamoDBStateStore`; `BaseStateStore` checks every
 * DynamoDB limit before the call, for both.
 */
export interface StateStore {
  readonly stats: StateStoreStats;
  /** Reads every shard progress item and the pipeline item of `pipeline` (strongly consistent). */
  readProgress(pipeline: string): Promise<ProgressSnapshot>;
  /**
   * Writes one attempt at a commit's segment under the first attempt number no earlier write took
   * (`segmentAttempts.ts`), and returns it with that number. Nothing reads it until a commit names it.
   * `StateLimitError` when it cannot fit the limits of one commit (nothing is sent).
   */
  writeSegment(segment: Omit<Segment, 'attempt'>): Promise<Segment>;
  /**
   * Throws the `StateLimitError` `writeSegment` would, without a call: a batch checks before it writes its
   * side outputs, so an attempt that cannot fit leaves no objects behind.
   */
  checkSegment(segment: Omit<Segment, 'attempt'>): void;
  /** `commit`'s `StateLimitError` for this progress, without a call (as {@link checkSegment}). */
  checkProgress(progress: ShardProgress, addsState: boolean): void;
  /** Deletes every chunk of a written attempt (one that no commit names and none ever will). */
  deleteSegment(segment: Segment): Promise<void>;
  /**
   * Writes the shard's progress (one conditional put; a transaction with a condition check on the pipeline
   * item for a shard's first item). The progress must name `segment`, when given, as its last commit.
   * Throws `StateConflictError` carrying the stored progress when its version is not `expectedVersion` (or
   * the pipeline's closed watermark moved, for a first commit); `StateLimitError` when it cannot fit
   * DynamoDB's limits (nothing is sent).
   */
  commit(commit: ShardCommit): Promise<void>;
  /** Raises the pipeline item's marks (never lowers them); returns the stored item. */
  raisePipeline(pipeline: string, marks: PipelineMarks): Promise<PipelineProgress>;
  /**
   * Session close passes (`SessionCloser.ts`): the emitted end through which the passes emitting above `after`
   * (the `emittedEnd` they read, which names their objects) emit. The first pass to claim `after` stores its
   * `end` (one conditional update on the pipeline item); a pass claiming the same `after` later gets that
   * value back, so every pass writing under the same names writes the same rows. Undefined when a pass above
   * a later `after` has claimed already: the caller's view is stale and it must not write.
   */
  claimSessionPass(pipeline: string, after: EpochMillis, end: EpochMillis): Promise<EpochMillis | undefined>;
  /**
   * Stores `shape` under its fingerprint in the pipeline's progress partition, unless it is there already
   * (one conditional put; `readProgress` returns it in `shapes`).
   */
  registerShape(pipeline: string, shape: StateShape): Promise<void>;
  /**
   * The committed segments `fromCommit..toCommit` (inclusive, at most `progress.commits`) of the shard of
   * `progress` that exist, in commit order: for each commit, the attempt `progress` names. Commits that
   * expired, or whose attempt `progress` no longer records, are left out.
   */
  readSegments(progress: ShardProgress, fromCommit: number, toCommit: number): Promise<Segment[]>;
  /**
   * The ranges of the committed segments `fromCommit..toCommit`, as `readSegments` picks them, without their
   * bodies (eventually consistent: for commits old enough that every write of them has landed).
   */
  readCommitLog(progress: ShardProgress, fromCommit: number, toCommit: number): Promise<CommitRange[]>;
}

/** Where results, archives and side outputs go (an S3 bucket, or memory in tests). */
export interface ObjectStore {
  /** Writes (or overwrites) one object. */
  putObject(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** Keys under `prefix`, in lexicographic order; only those after `startAfter`, when given. */
  listKeys(prefix: string, startAfter?: string): Promise<string[]>;
  deleteObject(key: string): Promise<void>;
}

/** Encodes result rows into one file body (Parquet in production). */
export interface ResultEncoder {
  readonly contentType: string;
  readonly extension: string;
  encode(columns: readonly ColumnSpec[], rows: readonly ResultRow[]): Uint8Array;
}

/**
 * The part of a compiled pipeline the exactly-once apply path drives. The engine's pipeline object
 * (`functions/pipelines/index.ts`) satisfies it structurally.
 */
export interface StatefulPipeline {
  readonly spec: PipelineSpec;
  /** Decodes, cleans and windows `records`; windows closing at or before `closedWatermark` make records late. */
  prepare(records: readonly RawRecord[], options: { readonly closedWatermark: EpochMillis }): PreparedRecords;
  /**
   * Aggregates the prepared batch per (key, window), dropping records whose dedupe id is already seen
   * (counted in `stats.duplicates` when given). The apply path passes no fences: every record it prepares is
   * above its shard's commit point.
   */
  combine(
    prepared: PreparedRecords,
    fenceOf: (key: string, window: WindowBounds) => undefined,
    seenIds?: (key: string, window: WindowBounds) => ReadonlySet<string> | undefined,
    stats?: { duplicates: number },
  ): WindowPartial[];
  /** Merges two serialised aggregate states (associative, commutative). */
  mergeState(a: Readonly<Record<string, Json>>, b: Readonly<Record<string, Json>>): Record<string, Json>;
  /**
   * The result row of a finished window; `evolved`: aggregate columns some of the window's partials lack
   * (written before a deploy added them), named in the row's `evolved_columns`.
   */
  resultRow(
    key: string,
    window: WindowBounds,
    state: Readonly<Record<string, Json>>,
    records: number,
    evolved?: readonly string[],
  ): ResultRow;
  /** What shapes the pipeline's stored state (`stateFingerprint.ts`). */
  readonly stateShape: StateShape;
  /** Fingerprint of `stateShape`, stored with every segment and progress item a commit writes. */
  readonly stateFingerprint: string;
  /** Event time at which the pipeline watermark lets `window` close (end + allowed lateness). */
  closeTime(window: WindowBounds): EpochMillis;
}
