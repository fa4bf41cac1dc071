/**
 * Replays a batch Lambda skipped after its retries (its on-failure record names the shard and the first and
 * last sequence number), exactly once, while the stream still holds it.
 *
 * The shard moved on past the skipped range, so its commit point no longer tells which of those records were
 * applied; its commit log does: every commit's segment holds the sequence range it applied, so a record of
 * the range was applied exactly when some commit's range holds it. The others are applied as a shard of their
 * own (`<shard>.replay-<digest of the first sequence>`), which fences them like any shard — a replay run twice applies
 * nothing the second time — and is closed once done, so it holds no window open. Records for windows that
 * closed meanwhile are late (`late/`), as any record that arrives after its window closed.
 */
import type { RawRecord } from '../types';
import type { BatchProcessor, BatchResult } from './BatchProcessor';
import { committedRanges, partitionsOf, removeOrphanedOutputs } from './commitLog';
import { landed, StateError } from './errors';
import type { ObjectStore, StatefulPipeline, StateStore } from './types';
import { padSequence } from '../sequence';
import { replayShardId } from '../shardId';

/** What a replay did. */
export interface ReplayResult {
  /** The shard the unapplied records were applied as. */
  readonly replayShard: string;
  /** Records of the range read from the stream. */
  readonly records: number;
  /** Of those, records some commit of the shard had applied already. */
  readonly alreadyApplied: number;
  /** Side-output objects the skipped attempts had written under the shard, removed (their records are replayed). */
  readonly orphansRemoved: number;
  /** How the others were applied (`recordsIn` is their number). */
  readonly applied: BatchResult;
  /**
   * Records the already applied ones published again (`.toStream()`): their batch was skipped, maybe because
   * their publish kept failing after the commit; the same ids, so a copy that did land counts once downstream.
   */
  readonly republished: number;
}

export class SkippedBatchReplay {
  public constructor(
    private readonly deps: {
      readonly processor: BatchProcessor;
      readonly store: StateStore;
      readonly objects: ObjectStore;
      readonly pipeline: StatefulPipeline;
    },
  ) {}

  get #name(): string {
    return this.deps.pipeline.spec.name;
  }

  /**
   * Applies the records of `records` (the skipped range `firstSequence..lastSequence` of one shard, in
   * sequence order, as read back from the stream) that no commit of the shard applied.
   */
  public async replay(
    shardId: string,
    firstSequence: string,
    lastSequence: string,
    records: readonly RawRecord[],
  ): Promise<ReplayResult> {
    const first = padSequence(firstSequence);
    const last = padSequence(lastSequence);
    const inRange = records.filter(
      (r) =>
        r.shardId === shardId &&
        padSequence(r.sequenceNumber) >= first &&
        padSequence(r.sequenceNumber) <= last,
    );
    const progress = (await this.deps.store.readProgress(this.#name)).shards.find(
      (s) => s.shardId === shardId,
    );
    const ranges =
      progress === undefined ? [] : await committedRanges(this.deps.store, progress, first, last);
    const applied = (r: RawRecord): boolean => {
      const seq = padSequence(r.sequenceNumber);
      return ranges.some((range) => seq >= range.firstSequence && seq <= range.lastSequence);
    };
    const replayShard = replayShardId(shardId, firstSequence);
    const todo = inRange.filter((r) => !applied(r)).map((r) => ({ ...r, shardId: replayShard }));
    const republished = await this.deps.processor.publishAgain(
      inRange.filter(applied),
      progress?.stateLimited,
    );
    const result = await this.deps.processor.apply(todo);
    await this.#close(replayShard);
    const orphansRemoved = await removeOrphanedOutputs(
      this.deps,
      shardId,
      first,
      last,
      partitionsOf(inRange),
      ranges,
    );
    return {
      replayShard,
      records: inRange.length,
      alreadyApplied: inRange.length - todo.length,
      orphansRemoved,
      applied: result,
      republished,
    };
  }

  /** Marks the replay shard closed: it no longer holds the watermark or any window back. */
  async #close(replayShard: string): Promise<void> {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const shard = (await this.deps.store.readProgress(this.#name)).shards.find(
        (s) => s.shardId === replayShard,
      );
      if (shard === undefined || shard.closed) return;
      const closed = await landed(
        this.deps.store.commit({
          progress: { ...shard, closed: true, version: shard.version + 1 },
          expectedVersion: shard.version,
        }),
      );
      if (closed) return;
    }
    throw new StateError(`Could not mark replay shard ${replayShard} closed: its progress kept changing`);
  }
}
