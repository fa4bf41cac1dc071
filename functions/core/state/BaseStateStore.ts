/**
 * Backend-independent half of a state store (Powertools `BasePersistenceLayer` style): the item layout
 * (`stateItems.ts`), every DynamoDB limit checked before the call, write/read unit accounting, and a cache
 * of segments (immutable once committed). Backends only implement the protected calls, on items.
 */
import type { EpochMillis } from '../types';
import { StateConflictError, StateError, StateLimitError } from './errors';
import { MAX_SEGMENT_ATTEMPT, parseSegmentSortKey, segmentSortKeyRange, segmentPartitionKey } from './keys';
import { committedAttempt } from './segmentAttempts';
import {
  MAX_ITEM_BYTES,
  MAX_PROGRESS_BYTES,
  PROGRESS_RESERVE_BYTES,
  MAX_SEGMENT_BYTES,
  MAX_SEGMENT_CHUNKS,
  readUnits,
  writeUnits,
} from './limits';
import {
  itemBytes,
  itemKey,
  progressToItem,
  shapeToItem,
  snapshotFromItems,
  storedClaimAfter,
  storedMark,
  type StateItem,
} from './stateItems';
import { commitRangesFromItems, segmentsFromItems, segmentToItems } from './segmentItems';
import type { StateShape } from './stateFingerprint';
import type {
  CommitRange,
  PipelineMarks,
  PipelineProgress,
  ProgressSnapshot,
  Segment,
  ShardCommit,
  ShardProgress,
  StateStore,
  StateStoreStats,
} from './types';
import { InvalidOptionError } from '../errors';

/** Options shared by all state stores. */
export interface BaseStateStoreOptions {
  /**
   * Bytes of segment bodies kept in memory between close passes (segments never change once committed).
   * 0 disables the cache.
   * @default 64 MiB
   */
  readonly segmentCacheBytes?: number;
  /**
   * Largest progress item written, more than `PROGRESS_RESERVE_BYTES` (a smaller one reaches the full-item
   * path with fewer windows, for tests).
   * @default MAX_PROGRESS_BYTES (300 KiB, under DynamoDB's 400 KB item limit)
   */
  readonly maxProgressBytes?: number;
}

/**
 * What a backend writes for one commit: one conditional put of the progress item, or, with
 * `closedWatermarkRead`, one transaction of that put and a condition check on the pipeline item.
 */
export interface CommitItems {
  readonly pipeline: string;
  readonly shardId: string;
  /** The shard's progress item; the stored one must have `expectedVersion` (or not exist when undefined). */
  readonly progress: StateItem;
  readonly expectedVersion: number | undefined;
  /** When set: the pipeline item's closed watermark must still be this (absent counts as -Infinity). */
  readonly closedWatermarkRead: EpochMillis | undefined;
  /** With `closedWatermarkRead`: the pipeline item's `closedEnd` must still be this (undefined: absent). */
  readonly closedEndRead: EpochMillis | undefined;
}

/** The pipeline item after `raisePipeline`, and the conditional writes it took. */
export interface RaisedMarks {
  readonly stored: PipelineProgress;
  readonly writes: number;
}

export abstract class BaseStateStore implements StateStore {
  public readonly stats: StateStoreStats = {
    requests: 0,
    conflicts: 0,
    throttles: 0,
    writeUnits: 0,
    readUnits: 0,
  };
  readonly #cache = new Map<string, Segment>();
  readonly #cacheLimit: number;
  readonly #progressLimit: number;
  /** The last progress `checkProgress` serialised: `commit` of that very object does not serialise it again. */
  #checked:
    { readonly progress: ShardProgress; readonly item: StateItem; readonly bytes: number } | undefined;
  #cacheBytes = 0;

  protected constructor(options: BaseStateStoreOptions = {}) {
    const limit = options.segmentCacheBytes ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidOptionError(`segmentCacheBytes must be a non-negative integer (given ${limit})`);
    }
    this.#cacheLimit = limit;
    const progressLimit = options.maxProgressBytes ?? MAX_PROGRESS_BYTES;
    if (
      !Number.isSafeInteger(progressLimit) ||
      progressLimit <= PROGRESS_RESERVE_BYTES ||
      progressLimit > MAX_PROGRESS_BYTES
    ) {
      throw new InvalidOptionError(
        `maxProgressBytes must be an integer above ${PROGRESS_RESERVE_BYTES} and at most ${MAX_PROGRESS_BYTES} (given ${progressLimit})`,
      );
    }
    this.#progressLimit = progressLimit;
  }

  public async readProgress(pipeline: string): Promise<ProgressSnapshot> {
    const items = await this._queryProgress(pipeline);
    this.stats.readUnits += readUnits(items.reduce((sum, item) => sum + itemBytes(item), 0));
    return snapshotFromItems(items);
  }

  public async registerShape(pipeline: string, shape: StateShape): Promise<void> {
    const item = shapeToItem(pipeline, shape);
    // Billed whether or not the put finds the shape there already.
    this.stats.writeUnits += writeUnits(itemBytes(item));
    await this._putIfAbsent(item);
  }

  public checkSegment(segment: Omit<Segment, 'attempt'>): void {
    this.#checkedChunks(segment);
  }

  public checkProgress(progress: ShardProgress, addsState: boolean): void {
    this.#checkedProgress(progress, addsState);
  }

  /** The progress item and its size once it fits `maxProgressBytes` (less the reserve, if it adds state). */
  #checkedProgress(
    progress: ShardProgress,
    addsState: boolean,
  ): { progressItem: StateItem; progressBytes: number } {
    const checked = this.#checked?.progress === progress ? this.#checked : undefined;
    const progressItem = checked?.item ?? progressToItem(progress);
    const progressBytes = checked?.bytes ?? itemBytes(progressItem);
    this.#checked = { progress, item: progressItem, bytes: progressBytes };
    const limit = addsState ? this.#progressLimit - PROGRESS_RESERVE_BYTES : this.#progressLimit;
    if (progressBytes > limit) {
      throw new StateLimitError(
        `Progress item of shard ${progress.shardId} would be ${progressBytes} bytes (at most ${limit}${addsState ? `, keeping ${PROGRESS_RESERVE_BYTES} for dead letters,` : ''} of DynamoDB's ${MAX_ITEM_BYTES}-byte item limit): ${progress.pending.length} windows pending`,
      );
    }
    return { progressItem, progressBytes };
  }

  /** The segment's chunk items under attempt 0 with their sizes, once they are known to fit one commit. */
  #checkedChunks(segment: Omit<Segment, 'attempt'>): { first: StateItem[]; sizes: number[] } {
    const first = segmentToItems({ ...segment, attempt: 0 });
    const sizes = first.map(itemBytes);
    const largest = Math.max(0, ...sizes);
    if (largest > MAX_ITEM_BYTES)
      throw new StateLimitError(
        `A segment chunk would be ${largest} bytes (DynamoDB's item limit is ${MAX_ITEM_BYTES})`,
      );
    if (first.length > MAX_SEGMENT_CHUNKS || segment.body.byteLength > MAX_SEGMENT_BYTES) {
      throw new StateLimitError(
        `Commit ${segment.commit} of shard ${segment.shardId} would be a segment of ${segment.body.byteLength} bytes in ${first.length} items (one commit holds at most ${MAX_SEGMENT_BYTES} bytes in ${MAX_SEGMENT_CHUNKS} items)`,
      );
    }
    return { first, sizes };
  }

  public async writeSegment(segment: Omit<Segment, 'attempt'>): Promise<Segment> {
    const { first, sizes } = this.#checkedChunks(segment);
    const pk = segmentPartitionKey(segment.pipeline, segment.shardId);
    let attempt = 0;
    for (;;) {
      const chunks = attempt === 0 ? first : segmentToItems({ ...segment, attempt });
      // Conditional writes are billed whether or not they succeed.
      this.stats.writeUnits += writeUnits(sizes[0]!);
      if (await this._putIfAbsent(chunks[0]!)) {
        // Chunk 0 claims the attempt: nobody else writes its other chunks, so one found there is this write's
        // own (a retried put whose first reply was lost).
        await Promise.all(chunks.slice(1).map((chunk) => this._putIfAbsent(chunk)));
        this.stats.writeUnits += sizes.slice(1).reduce((sum, size) => sum + writeUnits(size), 0);
        return { ...segment, attempt };
      }
      // Taken (an earlier write of this commit crashed or lost its place): the next number after every one
      // there is.
      const { low, high } = segmentSortKeyRange(segment.commit, segment.commit);
      const taken = await this._querySegments(pk, low, high);
      this.stats.readUnits += readUnits(taken.reduce((sum, item) => sum + itemBytes(item), 0));
      const highest = Math.max(
        attempt,
        ...taken.map((item) => parseSegmentSortKey(itemKey(item).sk)?.attempt ?? 0),
      );
      attempt = highest + 1;
      if (attempt > MAX_SEGMENT_ATTEMPT)
        throw new StateError(
          `Commit ${segment.commit} of shard ${segment.shardId} has ${MAX_SEGMENT_ATTEMPT + 1} segment writes already`,
        );
    }
  }

  public async deleteSegment(segment: Segment): Promise<void> {
    const chunks = segmentToItems(segment);
    await Promise.all(chunks.map((chunk) => this._delete(itemKey(chunk))));
    // A delete is billed like a write of the item it removes.
    this.stats.writeUnits += chunks.reduce((sum, chunk) => sum + writeUnits(itemBytes(chunk)), 0);
    this.#forget(segment);
  }

  public async commit(commit: ShardCommit): Promise<void> {
    const { progress, expectedVersion, segment } = commit;
    const required = (expectedVersion ?? 0) + 1;
    if (progress.version !== required) {
      throw new StateError(
        `Shard progress version must be ${required} when writing over version ${expectedVersion ?? 'none'} (given ${progress.version})`,
      );
    }
    if (
      segment !== undefined &&
      (segment.pipeline !== progress.pipeline ||
        segment.shardId !== progress.shardId ||
        segment.commit !== progress.commits ||
        committedAttempt(progress, segment.commit) !== segment.attempt)
    ) {
      throw new StateError(
        `A segment must be the commit its progress names (segment ${segment.shardId}#${segment.commit}#${segment.attempt}, progress ${progress.shardId}#${progress.commits}#${committedAttempt(progress, progress.commits) ?? 'none'})`,
      );
    }
    const { progressItem, progressBytes } = this.#checkedProgress(progress, commit.addsState === true);
    try {
      await this._commit({
        pipeline: progress.pipeline,
        shardId: progress.shardId,
        progress: progressItem,
        expectedVersion,
        closedWatermarkRead: commit.closedWatermarkRead,
        closedEndRead: commit.closedEndRead,
      });
    } catch (error) {
      if (error instanceof StateConflictError) this.stats.conflicts += 1;
      throw error;
    }
    // A transaction (with the condition check of a first commit) bills two units per KB of every item; a
    // plain conditional put one.
    this.stats.writeUnits +=
      commit.closedWatermarkRead !== undefined
        ? 2 * writeUnits(progressBytes) + 2
        : writeUnits(progressBytes);
    if (segment !== undefined) this.#remember(segment);
  }

  public async raisePipeline(pipeline: string, marks: PipelineMarks): Promise<PipelineProgress> {
    for (const [name, value] of Object.entries(marks)) {
      if (typeof value !== 'number' || Number.isNaN(value) || value === -Infinity)
        throw new InvalidOptionError(`${name} must be a number above -Infinity (given ${value})`);
    }
    const { stored, writes } = await this._raisePipeline(pipeline, marks);
    this.stats.writeUnits += writes;
    return stored;
  }

  public async claimSessionPass(
    pipeline: string,
    after: EpochMillis,
    end: EpochMillis,
  ): Promise<EpochMillis | undefined> {
    if (typeof after !== 'number' || Number.isNaN(after) || after === Infinity)
      throw new InvalidOptionError(`after must be a number below Infinity (given ${after})`);
    if (typeof end !== 'number' || Number.isNaN(end) || end <= after)
      throw new InvalidOptionError(`end must be a number above after ${after} (given ${end})`);
    const stored = storedMark(end)!;
    const claimed = await this._claimSessionPass(pipeline, storedClaimAfter(after), stored);
    this.stats.writeUnits += 1;
    // The caller's own value when the claim is its own (the stored form caps Infinity).
    return claimed === stored ? end : claimed;
  }

  public async readSegments(
    progress: ShardProgress,
    fromCommit: number,
    toCommit: number,
  ): Promise<Segment[]> {
    const last = lastCommitOf(progress, fromCommit, toCommit);
    const { pipeline, shardId } = progress;
    if (last < fromCommit) return [];
    // Committed segments never change: read only the commits after the cached run that starts at fromCommit.
    const cached: Segment[] = [];
    let next = fromCommit;
    for (; next <= last; next++) {
      const segment = this.#cache.get(cacheKey(pipeline, shardId, next));
      if (segment === undefined || segment.attempt !== committedAttempt(progress, next)) break;
      cached.push(segment);
    }
    if (next > last) return cached;
    const { low, high } = segmentSortKeyRange(next, last);
    const items = await this._querySegments(segmentPartitionKey(pipeline, shardId), low, high);
    this.stats.readUnits += readUnits(items.reduce((sum, item) => sum + itemBytes(item), 0));
    const read = segmentsFromItems(pipeline, shardId, items, (commit) => committedAttempt(progress, commit));
    for (const segment of read) this.#remember(segment);
    return [...cached, ...read];
  }

  public async readCommitLog(
    progress: ShardProgress,
    fromCommit: number,
    toCommit: number,
  ): Promise<CommitRange[]> {
    const last = lastCommitOf(progress, fromCommit, toCommit);
    if (last < fromCommit) return [];
    const { low, high } = segmentSortKeyRange(fromCommit, last);
    const { items, readUnits: units } = await this._querySegmentRanges(
      segmentPartitionKey(progress.pipeline, progress.shardId),
      low,
      high,
    );
    this.stats.readUnits += units;
    return commitRangesFromItems(items, (commit) => committedAttempt(progress, commit));
  }

  #forget(segment: Segment): void {
    const key = cacheKey(segment.pipeline, segment.shardId, segment.commit);
    const cached = this.#cache.get(key);
    if (cached === undefined || cached.attempt !== segment.attempt) return;
    this.#cache.delete(key);
    this.#cacheBytes -= cached.body.byteLength;
  }

  #remember(segment: Segment): void {
    if (this.#cacheLimit === 0 || segment.body.byteLength > this.#cacheLimit) return;
    const key = cacheKey(segment.pipeline, segment.shardId, segment.commit);
    const old = this.#cache.get(key);
    if (old !== undefined) this.#cacheBytes -= old.body.byteLength;
    this.#cache.delete(key);
    this.#cache.set(key, segment);
    this.#cacheBytes += segment.body.byteLength;
    for (const [oldest, value] of this.#cache) {
      if (this.#cacheBytes <= this.#cacheLimit) break;
      this.#cache.delete(oldest);
      this.#cacheBytes -= value.body.byteLength;
    }
  }

  /** Every item of the pipeline's progress partition (strongly consistent). */
  protected abstract _queryProgress(pipeline: string): Promise<StateItem[]>;
  /**
   * Writes a commit's progress (atomically with its condition check). On a failed condition throws
   * `StateConflictError` with the stored progress (parsed with `progressFromItem`) when the backend returns it.
   */
  protected abstract _commit(items: CommitItems): Promise<void>;
  /** Writes `item` unless an item with its key exists; false when one does (nothing written). */
  protected abstract _putIfAbsent(item: StateItem): Promise<boolean>;
  /** Deletes the item with this key, if any. */
  protected abstract _delete(key: { readonly pk: string; readonly sk: string }): Promise<void>;
  /** Raises the pipeline item's marks (conditionally, never lowering them); returns the stored item. */
  /**
   * Raises each mark to at least its value: one conditional update of every mark (all or none), made again
   * with only the marks the refusing item holds below their values (`pipelineMarks.ts`). Returns the item
   * after and the writes made.
   */
  protected abstract _raisePipeline(pipeline: string, marks: PipelineMarks): Promise<RaisedMarks>;

  /**
   * Stores the claim (`after`, `end`) on the pipeline item unless it holds a claim of this or a later
   * `after`, or an `emittedEnd` past `after` (one conditional update); returns the stored `end` when the
   * stored claim is of `after`, else undefined.
   */
  protected abstract _claimSessionPass(
    pipeline: string,
    after: number,
    end: number,
  ): Promise<EpochMillis | undefined>;
  /** Items of partition `pk` with sort keys in `[low, high]`, in sort-key order (strongly consistent). */
  protected abstract _querySegments(pk: string, low: string, high: string): Promise<StateItem[]>;
  /**
   * Like `_querySegments`, but eventually consistent and only `COMMIT_RANGE_ATTRIBUTES` (`segmentItems.ts`) needed; with
   * the read units the query consumed (DynamoDB bills the whole items, not what it returns).
   */
  protected abstract _querySegmentRanges(
    pk: string,
    low: string,
    high: string,
  ): Promise<{ readonly items: StateItem[]; readonly readUnits: number }>;
}

/** The last commit of `fromCommit..toCommit` the shard has made; refuses a range that is not positive integers. */
function lastCommitOf(progress: ShardProgress, fromCommit: number, toCommit: number): number {
  if (!Number.isSafeInteger(fromCommit) || !Number.isSafeInteger(toCommit) || fromCommit < 1) {
    throw new InvalidOptionError(`Commit range must be positive integers (given ${fromCommit}..${toCommit})`);
  }
  return Math.min(toCommit, progress.commits);
}

function cacheKey(pipeline: string, shardId: string, commit: number): string {
  return `${pipeline}\u0000${shardId}\u0000${commit}`;
}
