/**
 * Backend-independent half of a state store (Powertools `BasePersistenceLayer` style): the item layout
 * (`stateItems.ts`), every DynamoDB limit checked before the call, write/read unit accounting, and a cache
 * of segments (immutable once committed). Backends only implement the protected calls, on items.
 */
import type { EpochMillis } from '../types';
import { StateConflictError, StateError, StateLimitError } from './errors';
import { segmentSortKeyRange, segmentPartitionKey } from './keys';
import {
  MAX_ITEM_BYTES,
  MAX_PROGRESS_BYTES,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTION_ITEMS,
  readUnits,
  writeUnits,
} from './limits';
import {
  isPipelineItem,
  itemBytes,
  pipelineFromItem,
  progressFromItem,
  progressToItem,
  segmentsFromItems,
  segmentToItems,
  type StateItem,
} from './stateItems';
import type {
  PipelineMarks,
  PipelineProgress,
  ProgressSnapshot,
  Segment,
  ShardCommit,
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
}

/** What a backend writes for one commit: one transaction (or one conditional put when it is a single item). */
export interface CommitItems {
  readonly pipeline: string;
  readonly shardId: string;
  /** The shard's progress item; the stored one must have `expectedVersion` (or not exist when undefined). */
  readonly progress: StateItem;
  readonly expectedVersion: number | undefined;
  /** Segment chunks; none may exist yet. */
  readonly segment: readonly StateItem[];
  /** When set: the pipeline item's closed watermark must still be this (absent counts as -Infinity). */
  readonly closedWatermarkRead: EpochMillis | undefined;
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
  #cacheBytes = 0;

  protected constructor(options: BaseStateStoreOptions = {}) {
    const limit = options.segmentCacheBytes ?? 64 * 1024 * 1024;
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new InvalidOptionError(`segmentCacheBytes must be a non-negative integer (given ${limit})`);
    }
    this.#cacheLimit = limit;
  }

  public async readProgress(pipeline: string): Promise<ProgressSnapshot> {
    const items = await this._queryProgress(pipeline);
    this.stats.readUnits += readUnits(items.reduce((sum, item) => sum + itemBytes(item), 0));
    let pipelineProgress: PipelineProgress | undefined;
    const shards = [];
    for (const item of items) {
      if (isPipelineItem(item)) pipelineProgress = pipelineFromItem(item);
      else shards.push(progressFromItem(item));
    }
    return { shards, pipeline: pipelineProgress };
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
        segment.commit !== progress.commits)
    ) {
      throw new StateError(
        `A segment must be the commit its progress names (segment ${segment.shardId}#${segment.commit}, progress ${progress.shardId}#${progress.commits})`,
      );
    }
    const progressItem = progressToItem(progress);
    const progressBytes = itemBytes(progressItem);
    if (progressBytes > MAX_PROGRESS_BYTES) {
      throw new StateLimitError(
        `Progress item of shard ${progress.shardId} would be ${progressBytes} bytes (at most ${MAX_PROGRESS_BYTES} of DynamoDB's ${MAX_ITEM_BYTES}-byte item limit): ${progress.pending.length} windows pending`,
      );
    }
    const chunks = segment === undefined ? [] : segmentToItems(segment);
    const sizes = chunks.map(itemBytes);
    const largest = Math.max(0, ...sizes);
    if (largest > MAX_ITEM_BYTES)
      throw new StateLimitError(
        `A segment chunk would be ${largest} bytes (DynamoDB's item limit is ${MAX_ITEM_BYTES})`,
      );
    const actions = 1 + chunks.length + (commit.closedWatermarkRead !== undefined ? 1 : 0);
    const total = progressBytes + sizes.reduce((sum, size) => sum + size, 0);
    if (actions > MAX_TRANSACTION_ITEMS || total > MAX_TRANSACTION_BYTES) {
      throw new StateLimitError(
        `Commit ${progress.commits} of shard ${progress.shardId} would be a transaction of ${actions} items and ${total} bytes (DynamoDB allows ${MAX_TRANSACTION_ITEMS} items and ${MAX_TRANSACTION_BYTES} bytes)`,
      );
    }
    const transactional = actions > 1;
    try {
      await this._commit({
        pipeline: progress.pipeline,
        shardId: progress.shardId,
        progress: progressItem,
        expectedVersion,
        segment: chunks,
        closedWatermarkRead: commit.closedWatermarkRead,
      });
    } catch (error) {
      if (error instanceof StateConflictError) this.stats.conflicts += 1;
      throw error;
    }
    // Transactions bill two units per KB of every item they write; a plain conditional put one.
    const units = writeUnits(progressBytes) + sizes.reduce((sum, size) => sum + writeUnits(size), 0);
    this.stats.writeUnits += transactional
      ? 2 * units + (commit.closedWatermarkRead !== undefined ? 2 : 0)
      : units;
    if (segment !== undefined) this.#remember(segment);
  }

  public async raisePipeline(pipeline: string, marks: PipelineMarks): Promise<PipelineProgress> {
    for (const [name, value] of Object.entries(marks)) {
      if (typeof value !== 'number' || Number.isNaN(value) || value === -Infinity)
        throw new InvalidOptionError(`${name} must be a number above -Infinity (given ${value})`);
    }
    const stored = await this._raisePipeline(pipeline, marks);
    this.stats.writeUnits += Object.keys(marks).length;
    return stored;
  }

  public async readSegments(
    pipeline: string,
    shardId: string,
    fromCommit: number,
    toCommit: number,
  ): Promise<Segment[]> {
    if (!Number.isSafeInteger(fromCommit) || !Number.isSafeInteger(toCommit) || fromCommit < 1) {
      throw new InvalidOptionError(
        `Commit range must be positive integers (given ${fromCommit}..${toCommit})`,
      );
    }
    if (toCommit < fromCommit) return [];
    // Committed segments never change: read only the commits after the cached run that starts at fromCommit.
    const cached: Segment[] = [];
    let next = fromCommit;
    for (; next <= toCommit; next++) {
      const segment = this.#cache.get(cacheKey(pipeline, shardId, next));
      if (segment === undefined) break;
      cached.push(segment);
    }
    if (next > toCommit) return cached;
    const { low, high } = segmentSortKeyRange(next, toCommit);
    const items = await this._querySegments(segmentPartitionKey(pipeline, shardId), low, high);
    this.stats.readUnits += readUnits(items.reduce((sum, item) => sum + itemBytes(item), 0));
    const read = segmentsFromItems(pipeline, shardId, items);
    for (const segment of read) this.#remember(segment);
    return [...cached, ...read];
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
   * Writes a commit atomically. On a failed condition throws `StateConflictError` with the stored progress
   * (parsed with `progressFromItem`) when the backend returns it.
   */
  protected abstract _commit(items: CommitItems): Promise<void>;
  /** Raises the pipeline item's marks (conditionally, never lowering them); returns the stored item. */
  protected abstract _raisePipeline(pipeline: string, marks: PipelineMarks): Promise<PipelineProgress>;
  /** Items of partition `pk` with sort keys in `[low, high]`, in sort-key order (strongly consistent). */
  protected abstract _querySegments(pk: string, low: string, high: string): Promise<StateItem[]>;
}

function cacheKey(pipeline: string, shardId: string, commit: number): string {
  return `${pipeline}\u0000${shardId}\u0000${commit}`;
}
