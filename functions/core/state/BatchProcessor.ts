/**
 * The exactly-once apply path (DESIGN.md §3): one instance per warm Lambda instance (or bounded run),
 * driving a pipeline against a `StateStore` and an `ObjectStore`.
 *
 * A batch is applied shard by shard (`ShardCommitter`: each shard's records commit once), then the windows
 * that became due are emitted by the close pass (`WindowCloser`, `SessionCloser`) once every shard has
 * frozen them. The scheduled tick (`Tick`) does the same for shards that deliver nothing.
 */
import { InvalidOptionError } from '../errors';
import type { Clock, EpochMillis, RawRecord } from '../types';
import { pipelineWatermark } from '../watermark/pipelineWatermark';
import { AttemptOutputs } from './attemptOutputs';
import { DEFAULT_SWEEP_LAG_MS } from './outputSweep';
import { StateShapeGuard } from './stateShapeGuard';
import { DedupeCache } from './DedupeCache';
import { drainWatermark, type DrainResult } from './drain';
import { BatchApplyError, StateContentionError } from './errors';
import { emittedEndOf, fixedWindowRule, nextCloseAt, sessionRule } from './pendingWindows';
import { SessionCloser } from './SessionCloser';
import { addCounts, NO_COUNTS, ShardCommitter, type CommitCounts } from './ShardCommitter';
import { ResultPublishing } from './resultPublishing';
import { publishedAgain, type StreamPublisher } from './streamPublisher';
import { Tick, type CloseResult, type TickOptions } from './Tick';
import type {
  ObjectStore,
  ProgressSnapshot,
  ResultEncoder,
  ShardProgress,
  StatefulPipeline,
  StateStore,
} from './types';
import { WindowCloser } from './WindowCloser';

export type { CloseResult } from './Tick';

/** Settings of a `BatchProcessor`. */
export interface BatchProcessorOptions {
  /**
   * How long segments are kept after their commit (DynamoDB TTL): at least the longest a window may stay
   * open, and how long `replay-failures` can look back.
   * @default 7 days
   */
  readonly retentionMs?: number;
  /** Commits of one batch that may lose to a concurrent writer before the batch fails (1–50). @default 8 */
  readonly maxConflictRetries?: number;
  /** Reads and object writes in flight at once (1–100). @default 16 */
  readonly concurrency?: number;
  /** Windows emitted per close pass; the rest are left for the next invocation or tick (1–10000). @default 500 */
  readonly maxEmitPerPass?: number;
  /**
   * The shards a shard was split or merged from (Kinesis `ListShards`: `ParentShardId`,
   * `AdjacentParentShardId`), asked once when a shard commits for the first time. With it, a producer retry
   * that lands on a child shard after a reshard, while its first copy landed on the parent, is still dropped.
   * @default no lineage: such a retry is counted again
   */
  readonly shardParents?: (shardId: string) => Promise<readonly string[]>;
  /**
   * Most recent dedupe ids kept per shard: a producer duplicate is dropped when its first copy was applied
   * on the same shard, its window is not emitted yet, and it is among this many most recent ids.
   * @default 1,000,000
   */
  readonly maxDedupeIds?: number;
  /**
   * How long after a shard's commits side outputs that no commit made under their records are swept
   * (`outputSweep.ts`): longer than any invocation of the operator can take, so that no attempt that began
   * before those commits is still writing (0–1 day).
   * @default 16 minutes (Lambda's longest timeout and a minute)
   */
  readonly sweepLagMs?: number;
}

/** What applying one batch did: the counts of its shards' commits, and what the batch as a whole did. */
export interface BatchResult extends CommitCounts {
  readonly recordsIn: number;
  readonly windowsEmitted: number;
  /** Commits of this batch that lost to a concurrent writer and were applied again. */
  readonly conflicts: number;
  /** Records published to the pipeline's downstream stream (`.toStream()`), copies published again included. */
  readonly published: number;
  /** Pipeline watermark after the batch (-Infinity before any event time was seen). */
  readonly watermark: EpochMillis;
}

interface Dependencies {
  readonly pipeline: StatefulPipeline;
  readonly store: StateStore;
  readonly objects: ObjectStore;
  readonly encoder: ResultEncoder;
  readonly clock: Clock;
  /** Where `.toStream()` publishes; required when the pipeline has one. */
  readonly publisher?: Pick<StreamPublisher, 'stream' | 'publish'> | undefined;
  /** Where the close pass publishes result rows (`.sink({ toStream })`); required when the sink has one. */
  readonly resultPublisher?: Pick<StreamPublisher, 'stream' | 'publish'> | undefined;
}

const DAY_MS = 86_400_000;

/**
 * A publish-only pipeline's closer: it has no windows, so its ticks and batches close nothing (and its tick
 * raises no close mark: `Tick`).
 */
const NOTHING_TO_CLOSE: Pick<WindowCloser, 'dueIn' | 'close'> = {
  dueIn: () => false,
  close: () => Promise.resolve(0),
};

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      `${name} must be an integer between ${min} and ${max} inclusive (given ${value})`,
    );
  }
  return value;
}

export class BatchProcessor {
  readonly #deps: Dependencies;
  readonly #name: string;
  readonly #expectedShards: number;
  /** Emits what every shard has frozen: windows (`WindowCloser`) or sessions (`SessionCloser`). */
  readonly #closer: Pick<WindowCloser, 'dueIn' | 'close'>;
  readonly #committer: ShardCommitter;
  readonly #tick: Tick;
  /** Registers the definition's state shape before its first commit. */
  readonly #shapes: StateShapeGuard;
  /** Publishes the close passes' rows (`.sink({ toStream })`). */
  readonly #results: ResultPublishing | undefined;

  public constructor(deps: Dependencies, options: BatchProcessorOptions = {}) {
    this.#deps = deps;
    this.#name = deps.pipeline.spec.name;
    const expectedShards = deps.pipeline.spec.source.shards ?? 0;
    this.#expectedShards = expectedShards;
    const tap = deps.pipeline.spec.publish;
    if (tap !== undefined && deps.publisher?.stream !== tap.stream)
      throw new InvalidOptionError(
        `Pipeline ${this.#name} publishes to stream ${tap.stream} (toStream): give a publisher for that stream (given ${deps.publisher === undefined ? 'none' : deps.publisher.stream})`,
      );
    const results = deps.pipeline.spec.sink?.toStream;
    if (results !== deps.resultPublisher?.stream)
      throw new InvalidOptionError(
        `Pipeline ${this.#name} ${results === undefined ? 'publishes no results' : `publishes its results to stream ${results} (sink toStream)`}: give a result publisher for ${results === undefined ? 'none' : 'that stream'} (given ${deps.resultPublisher === undefined ? 'none' : deps.resultPublisher.stream})`,
      );
    const retentionMs = options.retentionMs ?? 7 * DAY_MS;
    if (!(retentionMs > 0))
      throw new InvalidOptionError(`retentionMs must be positive (given ${retentionMs})`);
    const maxConflictRetries = checkRange('maxConflictRetries', options.maxConflictRetries ?? 8, 1, 50);
    const concurrency = checkRange('concurrency', options.concurrency ?? 16, 1, 100);
    const maxEmitPerPass = checkRange('maxEmitPerPass', options.maxEmitPerPass ?? 500, 1, 10_000);
    const dedupe = new DedupeCache(
      checkRange('maxDedupeIds', options.maxDedupeIds ?? 1_000_000, 1, 100_000_000),
    );
    const attempts = new AttemptOutputs(
      deps,
      checkRange('sweepLagMs', options.sweepLagMs ?? DEFAULT_SWEEP_LAG_MS, 0, DAY_MS),
    );
    const { window, sink } = deps.pipeline.spec;
    this.#results =
      deps.resultPublisher === undefined || sink === undefined
        ? undefined
        : new ResultPublishing(deps.objects, deps.resultPublisher, sink.table, concurrency);
    const closing = { ...deps, results: this.#results };
    const closer =
      window === undefined
        ? NOTHING_TO_CLOSE
        : window.kind === 'session'
          ? new SessionCloser(closing, { concurrency, expectedShards })
          : new WindowCloser(closing, { maxEmitPerPass, concurrency, expectedShards });
    const rule =
      window?.kind === 'session'
        ? sessionRule(window.gapMs)
        : fixedWindowRule(deps.pipeline.spec.time.allowedLatenessMs);
    this.#closer = closer;
    this.#committer = new ShardCommitter({
      ...deps,
      expectedShards,
      retentionMs,
      maxConflictRetries,
      dedupe,
      shardParents: options.shardParents,
      rule,
      attempts,
    });
    this.#tick = new Tick({
      ...deps,
      expectedShards,
      closer,
      rule,
      attempts,
      windowed: window !== undefined,
    });
    this.#shapes = new StateShapeGuard(deps);
  }

  /**
   * Result rows the close passes of this instance dead-lettered because no stream record can carry them
   * (`resultPublishing.ts`); the handlers publish the difference per invocation as `ResultsDeadLettered`.
   */
  public get resultsDeadLettered(): number {
    return this.#results?.deadLettered ?? 0;
  }

  /**
   * Applies one batch (records of a shard in sequence order, as Lambda delivers them; several shards are
   * applied one after the other) and closes the windows that became due. Throws `BatchApplyError`;
   * `recordsApplied` says whether the records are in.
   */
  public async apply(records: readonly RawRecord[]): Promise<BatchResult> {
    const { store, clock, pipeline } = this.#deps;
    const conflictsBefore = store.stats.conflicts;
    let snapshot: ProgressSnapshot;
    let counts: CommitCounts = NO_COUNTS;
    let published = 0;
    try {
      snapshot = await store.readProgress(this.#name);
      await this.#shapes.register(snapshot);
      for (const shardRecords of byShard(records)) {
        const applied = await this.#committer.applyShard(shardRecords, snapshot);
        snapshot = applied.snapshot;
        counts = addCounts(counts, applied.counts);
        // After the commit: what it applied, and what a redelivery of committed records brings again.
        if (applied.published.length > 0) await this.#deps.publisher!.publish(applied.published);
        published += applied.published.length;
      }
    } catch (error) {
      throw new BatchApplyError(
        `Applying a batch of ${records.length} records of pipeline ${this.#name} failed`,
        false,
        { cause: error },
      );
    }
    const watermark = pipelineWatermark(
      snapshot.shards,
      clock.now(),
      pipeline.spec.time.idleTimeoutMs,
      this.#expectedShards,
    );
    const result = {
      ...counts,
      recordsIn: records.length,
      conflicts: store.stats.conflicts - conflictsBefore,
      published,
      watermark,
    };
    if (!this.#closer.dueIn(snapshot)) return { ...result, windowsEmitted: 0 };
    try {
      return { ...result, windowsEmitted: await this.#closer.close(snapshot) };
    } catch (error) {
      throw new BatchApplyError(
        `Closing windows of pipeline ${this.#name} failed after the batch was applied`,
        true,
        { cause: error },
      );
    }
  }

  /**
   * Publishes again what commits of `records` published (`.toStream()`), under the same ids: the committed
   * records of a range Lambda skipped, whose publish may have failed for good (`SkippedBatchReplay`). Returns
   * how many records it put; 0 without `.toStream()`. `stateLimited`: the shard's `STATE_LIMIT` records
   * (its progress's `stateLimited`), which published nothing.
   */
  public async publishAgain(
    records: readonly RawRecord[],
    stateLimited?: ShardProgress['stateLimited'],
  ): Promise<number> {
    const entries = publishedAgain(this.#deps.pipeline, records, stateLimited);
    if (entries.length > 0) await this.#deps.publisher!.publish(entries);
    return entries.length;
  }

  /**
   * The scheduled tick (`Tick.ts`): registers shards that have delivered nothing yet (`shardIds`), raises
   * the close mark of every shard below the pipeline watermark to it, and closes every due window.
   * `watermarkOverride` (+Infinity at the end of bounded input) closes everything up to it.
   */
  public async tick(watermarkOverride?: EpochMillis, options: TickOptions = {}): Promise<CloseResult> {
    return this.#tick.run(watermarkOverride, options);
  }

  /**
   * Drain (`drain.ts`): closes and emits every window open now, through the tick with the watermark raised
   * to the latest close time of an open window (or `atLeast`, if later). Run it while no batch of the
   * pipeline is in flight (its event source mappings paused): a batch committing meanwhile may open
   * windows past the drain watermark, which stay open.
   */
  public async drain(
    atLeast?: EpochMillis,
    options: { readonly shardIds?: readonly string[] } = {},
  ): Promise<DrainResult> {
    const { store, pipeline } = this.#deps;
    const through = drainWatermark(await store.readProgress(this.#name), pipeline, atLeast);
    if (through === undefined) return { drainedThrough: null, windowsEmitted: 0 };
    // The first run registers shards that delivered nothing yet (they start below the mark), the second
    // raises their marks too; further runs only while windows are still emitted.
    let windowsEmitted = 0;
    for (let run = 1; ; run++) {
      const { windowsEmitted: emitted } = await this.#tick.run(through, { ...options, endOfInput: false });
      windowsEmitted += emitted;
      if (run >= 2 && emitted === 0) break;
    }
    if (pipeline.spec.window !== undefined && pipeline.spec.window.kind !== 'session') {
      // Every window closing at or below the mark is emitted now, under the definition it was written by:
      // `emittedThrough` and `emittedEnd` say so, so a definition with another close rule never reads their
      // state again.
      const lateness = pipeline.spec.time.allowedLatenessMs;
      const after = await store.readProgress(this.#name);
      const left = nextCloseAt(after.shards, emittedEndOf(after.pipeline, lateness), (w) =>
        pipeline.closeTime(w),
      );
      if (left !== undefined && left <= through)
        throw new StateContentionError(
          `The drain of pipeline ${this.#name} left windows closing at ${left} unemitted (a shard's close mark could not be raised, or a shard of the source has not reported yet); run it again`,
        );
      await store.raisePipeline(this.#name, { emittedThrough: through, emittedEnd: through - lateness });
    }
    return { drainedThrough: through, windowsEmitted };
  }
}

/** The records of each shard, in their order, shard by shard in order of first appearance. */
function byShard(records: readonly RawRecord[]): RawRecord[][] {
  const groups = new Map<string, RawRecord[]>();
  for (const record of records) {
    const group = groups.get(record.shardId);
    if (group === undefined) groups.set(record.shardId, [record]);
    else group.push(record);
  }
  return [...groups.values()];
}
