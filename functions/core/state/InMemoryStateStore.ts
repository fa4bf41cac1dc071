/**
 * State store in process memory with the same items, key layout, limits and conditional semantics as the
 * DynamoDB store: for unit tests, the fault harness and bounded (backfill) runs. Items are copied in and
 * out, so callers can never mutate stored state by accident.
 */
import { STATE_TABLE } from '../constants';
import {
  BaseStateStore,
  type BaseStateStoreOptions,
  type CommitItems,
  type RaisedMarks,
} from './BaseStateStore';
import { StateConflictError } from './errors';
import { progressPartitionKey } from './keys';
import { readUnits } from './limits';
import {
  itemBytes,
  itemKey,
  pipelineFromItem,
  pipelineItemKey,
  progressFromItem,
  claimedEnd,
  SESSION_PASS,
  storedMark,
  type AttributeValue,
  type StateItem,
} from './stateItems';
import { marksBelow } from './pipelineMarks';
import type { EpochMillis } from '../types';
import type { PipelineMarks } from './types';

const { PARTITION_KEY: PK, SORT_KEY: SK } = STATE_TABLE;

/**
 * The stored items of an in-memory state table, by partition and sort key. Several `InMemoryStateStore`s
 * may share one, like several warm Lambda instances share one DynamoDB table.
 */
export class InMemoryStateTables {
  public readonly partitions = new Map<string, Map<string, StateItem>>();

  /** Every stored item (copies), for assertions. */
  public items(): StateItem[] {
    return [...this.partitions.values()].flatMap((partition) =>
      [...partition.values()].map((item) => structuredClone(item)),
    );
  }
}

/** Options of an `InMemoryStateStore`. */
export interface InMemoryStateStoreOptions extends BaseStateStoreOptions {
  /**
   * Backing tables, to share state between store instances.
   * @default new, empty tables
   */
  readonly tables?: InMemoryStateTables;
}

function numberOf(item: StateItem | undefined, name: string): number | undefined {
  const value = item?.[name];
  return value !== undefined && 'N' in value ? Number(value.N) : undefined;
}

export class InMemoryStateStore extends BaseStateStore {
  public readonly tables: InMemoryStateTables;

  public constructor(options: InMemoryStateStoreOptions = {}) {
    super(options);
    this.tables = options.tables ?? new InMemoryStateTables();
  }

  #get(pk: string, sk: string): StateItem | undefined {
    return this.tables.partitions.get(pk)?.get(sk);
  }

  #put(item: StateItem): void {
    const { pk, sk } = itemKey(item);
    let partition = this.tables.partitions.get(pk);
    if (partition === undefined) this.tables.partitions.set(pk, (partition = new Map()));
    partition.set(sk, structuredClone(item));
  }

  protected async _queryProgress(pipeline: string): Promise<StateItem[]> {
    this.stats.requests += 1;
    const partition = this.tables.partitions.get(progressPartitionKey(pipeline));
    return [...(partition?.entries() ?? [])]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, item]) => structuredClone(item));
  }

  protected async _commit(items: CommitItems): Promise<void> {
    this.stats.requests += 1;
    const { pk, sk } = itemKey(items.progress);
    const stored = this.#get(pk, sk);
    const versionHolds =
      items.expectedVersion === undefined
        ? stored === undefined
        : numberOf(stored, 'version') === items.expectedVersion;
    let closedHolds = true;
    if (items.closedWatermarkRead !== undefined) {
      const pipelineKey = pipelineItemKey(items.pipeline);
      const pipelineItem = this.#get(str(pipelineKey[PK]), str(pipelineKey[SK]));
      const stored = numberOf(pipelineItem, 'closedWatermark') ?? null;
      const storedEnd = numberOf(pipelineItem, 'closedEnd') ?? null;
      closedHolds =
        stored === storedMark(items.closedWatermarkRead) &&
        storedEnd === storedMark(items.closedEndRead ?? -Infinity);
    }
    if (!versionHolds || !closedHolds) {
      throw new StateConflictError(
        `Commit of shard ${items.shardId} conflicts (${!versionHolds ? 'progress moved on' : 'closed watermark moved'})`,
        stored === undefined ? undefined : progressFromItem(stored),
      );
    }
    this.#put(items.progress);
  }

  protected async _delete(key: { readonly pk: string; readonly sk: string }): Promise<void> {
    this.stats.requests += 1;
    this.tables.partitions.get(key.pk)?.delete(key.sk);
  }

  protected async _putIfAbsent(item: StateItem): Promise<boolean> {
    this.stats.requests += 1;
    const { pk, sk } = itemKey(item);
    if (this.#get(pk, sk) !== undefined) return false;
    this.#put(item);
    return true;
  }

  protected async _raisePipeline(pipeline: string, marks: PipelineMarks): Promise<RaisedMarks> {
    const key = pipelineItemKey(pipeline);
    const pk = str(key[PK]);
    const sk = str(key[SK]);
    const next: Record<string, AttributeValue> = { ...(this.#get(pk, sk) ?? key), pipeline: { S: pipeline } };
    // As on DynamoDB: one conditional update of the marks still below (all or none), again without those
    // the stored item holds at or above their values.
    let pending = Object.entries(marks) as [string, number][];
    let writes = 0;
    while (pending.length > 0) {
      writes += 1;
      const below = marksBelow(next, pending);
      if (below.length === pending.length) {
        for (const [name, value] of below) next[name] = { N: String(storedMark(value)) };
        break;
      }
      pending = below;
    }
    this.stats.requests += writes;
    this.#put(next);
    return { stored: pipelineFromItem(next), writes };
  }

  protected async _claimSessionPass(
    pipeline: string,
    after: number,
    end: number,
  ): Promise<EpochMillis | undefined> {
    // One conditional update, as on DynamoDB.
    this.stats.requests += 1;
    const key = pipelineItemKey(pipeline);
    const stored = this.#get(str(key[PK]), str(key[SK]));
    const storedAfter = stored === undefined ? undefined : numberOf(stored, SESSION_PASS.AFTER);
    const emittedEnd = stored === undefined ? undefined : numberOf(stored, 'emittedEnd');
    // A claim of this or a later `after` holds, or the emitted end is past `after` (a stale view).
    if (
      (storedAfter !== undefined && storedAfter >= after) ||
      (emittedEnd !== undefined && emittedEnd > after)
    )
      return claimedEnd(stored, after);
    this.#put({
      ...(stored ?? key),
      pipeline: { S: pipeline },
      [SESSION_PASS.AFTER]: { N: String(after) },
      [SESSION_PASS.END]: { N: String(end) },
    });
    return end;
  }

  protected async _querySegmentRanges(
    pk: string,
    low: string,
    high: string,
  ): Promise<{ readonly items: StateItem[]; readonly readUnits: number }> {
    const items = await this._querySegments(pk, low, high);
    // Eventually consistent: half the units of the bytes read, whole items (as DynamoDB bills a projection).
    return { items, readUnits: readUnits(items.reduce((sum, item) => sum + itemBytes(item), 0)) / 2 };
  }

  protected async _querySegments(pk: string, low: string, high: string): Promise<StateItem[]> {
    this.stats.requests += 1;
    const partition = this.tables.partitions.get(pk);
    return [...(partition?.entries() ?? [])]
      .filter(([sk]) => sk >= low && sk <= high)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, item]) => structuredClone(item));
  }
}

function str(value: AttributeValue | undefined): string {
  return value !== undefined && 'S' in value ? value.S : '';
}
