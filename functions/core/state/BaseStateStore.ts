/**
 * Backend-independent half of a state store (Powertools `BasePersistenceLayer` style): validation of
 * writes, the warm cache shared by the invocations of one Lambda instance, and statistics. Backends only
 * implement the protected calls and must throw `StateConflictError` carrying the stored item.
 */
import { WINDOW_STATUS, type EpochMillis, type ShardProgress, type WindowStateItem } from '../types';
import { StateConflictError, StateError } from './errors';
import { advancesFence } from './fence';
import { windowId } from './keys';
import type { DueWindow, ProgressSnapshot, ReadWindowsOptions, StateStore, StateStoreStats, WindowRef, WindowWriteCondition } from './types';

/** Options shared by all state stores. */
export interface BaseStateStoreOptions {
  /**
   * Window items kept in the warm cache (least recently used evicted first). 0 disables the cache.
   * @default 10000
   */
  readonly cacheSize?: number;
}

/** Share of cache-based writes that may lose before reads bypass the cache. */
const STALE_CACHE_LIMIT = 0.2;
const DECAY = 0.97;

export abstract class BaseStateStore implements StateStore {
  public readonly stats: StateStoreStats = { requests: 0, conflicts: 0, throttles: 0, cacheHits: 0, cacheBypasses: 0 };
  readonly #cache = new Map<string, WindowStateItem>();
  readonly #cacheSize: number;
  /**
   * Decaying counts of writes based on a cached item that lost (stale) or won (fresh). When other shards
   * keep changing the same items, a stale cache costs one failed write per item, whereas a consistent
   * BatchGetItem costs one request per 100 items: above `STALE_CACHE_LIMIT` the cache is bypassed.
   */
  #stale = 0;
  #fresh = 0;

  protected constructor(options: BaseStateStoreOptions = {}) {
    const size = options.cacheSize ?? 10_000;
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`cacheSize must be a non-negative integer (given ${size})`);
    this.#cacheSize = size;
  }

  public async readProgress(pipeline: string): Promise<ProgressSnapshot> {
    return this._readProgress(pipeline);
  }

  public async writeShardProgress(progress: ShardProgress, expectedVersion: number | undefined): Promise<ShardProgress> {
    const required = (expectedVersion ?? 0) + 1;
    if (progress.version !== required) {
      throw new StateError(`Shard progress version must be ${required} when writing over version ${expectedVersion ?? 'none'} (given ${progress.version})`);
    }
    try {
      await this._writeShardProgress(progress, expectedVersion);
      return progress;
    } catch (error) {
      if (error instanceof StateConflictError) this.stats.conflicts += 1;
      throw error;
    }
  }

  public async raiseClosedWatermark(pipeline: string, watermark: EpochMillis): Promise<EpochMillis> {
    if (!Number.isFinite(watermark)) throw new RangeError(`Closed watermark must be finite (given ${watermark})`);
    return this._raiseClosedWatermark(pipeline, watermark);
  }

  public async readWindows(pipeline: string, refs: readonly WindowRef[], options: ReadWindowsOptions = {}): Promise<Map<string, WindowStateItem>> {
    const { assumeAbsent, fresh } = options;
    const found = new Map<string, WindowStateItem>();
    const missing = new Map<string, WindowRef>();
    const useCache = this.#stale <= STALE_CACHE_LIMIT * (this.#stale + this.#fresh);
    if (!useCache) this.stats.cacheBypasses += 1;
    for (const ref of refs) {
      const id = windowId(pipeline, ref.key, ref.window);
      const cached = useCache && fresh?.(ref) !== true ? this.#cacheGet(id) : undefined;
      if (cached !== undefined) {
        this.stats.cacheHits += 1;
        found.set(id, cached);
      } else if (assumeAbsent?.(ref) !== true) {
        missing.set(id, ref);
      }
    }
    if (missing.size > 0) {
      for (const item of await this._readWindows(pipeline, [...missing.values()])) {
        const id = windowId(pipeline, item.key, item.window);
        found.set(id, item);
        this.#cacheSet(id, item);
      }
    }
    return found;
  }

  public async writeWindow(item: WindowStateItem, condition: WindowWriteCondition, closeAt: EpochMillis): Promise<WindowStateItem> {
    const required = (condition.expectedVersion ?? 0) + 1;
    if (item.version !== required) {
      throw new StateError(`Window item version must be ${required} when writing over version ${condition.expectedVersion ?? 'none'} (given ${item.version})`);
    }
    const id = windowId(item.pipeline, item.key, item.window);
    const fromCache = condition.expectedVersion !== undefined && this.#cache.get(id)?.version === condition.expectedVersion;
    try {
      await this._writeWindow(item, condition, closeAt);
      if (fromCache) this.#observe(false);
    } catch (error) {
      if (error instanceof StateConflictError) {
        this.stats.conflicts += 1;
        if (fromCache) this.#observe(true);
        const existing = error.existing as WindowStateItem | undefined;
        if (existing === undefined) this.#cache.delete(id);
        else this.#cacheSet(id, existing);
      } else {
        // Unknown outcome (timeout, crash): the cached copy may be stale either way.
        this.#cache.delete(id);
      }
      throw error;
    }
    // An emitted window is never written again by the apply path: keep the memory for open ones.
    if (item.status === WINDOW_STATUS.EMITTED) this.#cache.delete(id);
    else this.#cacheSet(id, item);
    return item;
  }

  public async listDueWindows(pipeline: string, closeAtMax: EpochMillis, limit: number): Promise<DueWindow[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer (given ${limit})`);
    return this._listDueWindows(pipeline, closeAtMax, limit);
  }

  public async nextCloseAt(pipeline: string): Promise<EpochMillis | undefined> {
    return (await this._listDueWindows(pipeline, Number.MAX_SAFE_INTEGER, 1))[0]?.closeAt;
  }

  public clearCache(): void {
    this.#cache.clear();
  }

  /** Checks a window write condition against the stored item; shared by backends that evaluate it themselves. */
  protected static conditionHolds(stored: WindowStateItem | undefined, condition: WindowWriteCondition): boolean {
    if (condition.expectedVersion === undefined) return stored === undefined;
    if (stored === undefined || stored.version !== condition.expectedVersion) return false;
    if (condition.status !== undefined && stored.status !== condition.status) return false;
    return advancesFence(stored.fence, condition.fenceBelow);
  }

  protected abstract _readProgress(pipeline: string): Promise<ProgressSnapshot>;
  protected abstract _writeShardProgress(progress: ShardProgress, expectedVersion: number | undefined): Promise<void>;
  protected abstract _raiseClosedWatermark(pipeline: string, watermark: EpochMillis): Promise<EpochMillis>;
  protected abstract _readWindows(pipeline: string, refs: readonly WindowRef[]): Promise<WindowStateItem[]>;
  protected abstract _writeWindow(item: WindowStateItem, condition: WindowWriteCondition, closeAt: EpochMillis): Promise<void>;
  protected abstract _listDueWindows(pipeline: string, closeAtMax: EpochMillis, limit: number): Promise<DueWindow[]>;

  #observe(stale: boolean): void {
    this.#stale = this.#stale * DECAY + (stale ? 1 : 0);
    this.#fresh = this.#fresh * DECAY + (stale ? 0 : 1);
  }

  #cacheGet(id: string): WindowStateItem | undefined {
    const item = this.#cache.get(id);
    if (item !== undefined) {
      this.#cache.delete(id);
      this.#cache.set(id, item);
    }
    return item;
  }

  #cacheSet(id: string, item: WindowStateItem): void {
    if (this.#cacheSize === 0) return;
    this.#cache.delete(id);
    this.#cache.set(id, item);
    while (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
  }
}
