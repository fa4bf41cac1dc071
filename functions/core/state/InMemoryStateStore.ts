/**
 * State store in process memory with the same conditional-write semantics as the DynamoDB store: for unit
 * tests, the fault harness and bounded (backfill) runs. Items are copied in and out, so callers can never
 * mutate stored state by accident.
 */
import type { EpochMillis, ShardProgress, WindowStateItem } from '../types';
import { WINDOW_STATUS } from '../types';
import { BaseStateStore, type BaseStateStoreOptions } from './BaseStateStore';
import { StateConflictError } from './errors';
import { windowId } from './keys';
import type { DueWindow, PipelineProgress, ProgressSnapshot, WindowRef, WindowWriteCondition } from './types';

/** A stored window item with its close time (the open-windows index sort key). */
export interface StoredWindow {
  readonly item: WindowStateItem;
  readonly closeAt: EpochMillis;
}

/**
 * The stored data of an in-memory state table. Several `InMemoryStateStore`s may share one, like several
 * warm Lambda instances share one DynamoDB table while each keeps its own cache.
 */
export class InMemoryStateTables {
  public readonly windows = new Map<string, StoredWindow>();
  public readonly shards = new Map<string, Map<string, ShardProgress>>();
  public readonly pipelines = new Map<string, PipelineProgress>();
}

/** Options of an `InMemoryStateStore`. */
export interface InMemoryStateStoreOptions extends BaseStateStoreOptions {
  /**
   * Backing tables, to share state between store instances.
   * @default new, empty tables
   */
  readonly tables?: InMemoryStateTables;
}

export class InMemoryStateStore extends BaseStateStore {
  readonly #windows: Map<string, StoredWindow>;
  readonly #shards: Map<string, Map<string, ShardProgress>>;
  readonly #pipelines: Map<string, PipelineProgress>;
  public readonly tables: InMemoryStateTables;

  public constructor(options: InMemoryStateStoreOptions = {}) {
    super(options);
    this.tables = options.tables ?? new InMemoryStateTables();
    this.#windows = this.tables.windows;
    this.#shards = this.tables.shards;
    this.#pipelines = this.tables.pipelines;
  }

  /** Every stored window item (a copy), for assertions. */
  public allWindows(): WindowStateItem[] {
    return [...this.#windows.values()].map((stored) => structuredClone(stored.item));
  }

  protected async _readProgress(pipeline: string): Promise<ProgressSnapshot> {
    this.stats.requests += 1;
    const shards = [...(this.#shards.get(pipeline)?.values() ?? [])].sort((a, b) => (a.shardId < b.shardId ? -1 : 1));
    const progress = this.#pipelines.get(pipeline);
    return structuredClone({ shards, pipeline: progress });
  }

  protected async _writeShardProgress(progress: ShardProgress, expectedVersion: number | undefined): Promise<void> {
    this.stats.requests += 1;
    const shards = this.#shards.get(progress.pipeline) ?? new Map<string, ShardProgress>();
    const stored = shards.get(progress.shardId);
    const holds =
      expectedVersion === undefined
        ? stored === undefined
        : stored !== undefined && stored.version === expectedVersion && stored.lastSequence <= progress.lastSequence;
    if (!holds) {
      throw new StateConflictError<ShardProgress>(`Shard progress ${progress.shardId} moved on`, stored === undefined ? undefined : structuredClone(stored));
    }
    shards.set(progress.shardId, structuredClone(progress));
    this.#shards.set(progress.pipeline, shards);
  }

  protected async _raiseClosedWatermark(pipeline: string, watermark: EpochMillis): Promise<EpochMillis> {
    this.stats.requests += 1;
    const current = this.#pipelines.get(pipeline)?.closedWatermark ?? -Infinity;
    const raised = Math.max(current, watermark);
    this.#pipelines.set(pipeline, { pipeline, closedWatermark: raised });
    return raised;
  }

  protected async _readWindows(pipeline: string, refs: readonly WindowRef[]): Promise<WindowStateItem[]> {
    this.stats.requests += Math.ceil(refs.length / 100);
    const items: WindowStateItem[] = [];
    for (const ref of refs) {
      const stored = this.#windows.get(windowId(pipeline, ref.key, ref.window));
      if (stored !== undefined) items.push(structuredClone(stored.item));
    }
    return items;
  }

  protected async _writeWindow(item: WindowStateItem, condition: WindowWriteCondition, closeAt: EpochMillis): Promise<void> {
    this.stats.requests += 1;
    const id = windowId(item.pipeline, item.key, item.window);
    const stored = this.#windows.get(id)?.item;
    if (!BaseStateStore.conditionHolds(stored, condition)) {
      throw new StateConflictError(`Window ${id} moved on`, stored === undefined ? undefined : structuredClone(stored));
    }
    this.#windows.set(id, { item: structuredClone(item), closeAt });
  }

  protected async _listDueWindows(pipeline: string, closeAtMax: EpochMillis, limit: number): Promise<DueWindow[]> {
    this.stats.requests += 1;
    return [...this.#windows.values()]
      .filter((s) => s.item.pipeline === pipeline && s.item.status !== WINDOW_STATUS.EMITTED && s.closeAt <= closeAtMax)
      .sort((a, b) => a.closeAt - b.closeAt || (a.item.key < b.item.key ? -1 : a.item.key > b.item.key ? 1 : a.item.window.start - b.item.window.start))
      .slice(0, limit)
      .map((s) => ({ key: s.item.key, window: { ...s.item.window }, closeAt: s.closeAt, status: s.item.status }));
  }
}
