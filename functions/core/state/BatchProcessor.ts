/**
 * The exactly-once apply path (DESIGN.md §3): one instance per warm Lambda instance (or bounded run),
 * driving a pipeline against a `StateStore` and an `ObjectStore`.
 *
 * A batch of a shard commits once: its segment (every key's partial state of every window it touched), then
 * its shard's progress (last sequence, watermark, close mark), conditioned on the progress version it read,
 * naming that segment (`segmentAttempts.ts`). A redelivered, bisected or duplicated batch finds its records at or below the
 * committed sequence and skips them; a copy that lost the race reads again. Windows are emitted by the
 * close pass (`WindowCloser`) once every shard has frozen them.
 */
import type { PreparedRecords } from '../engine/types';
import type { Clock, EpochMillis, RawRecord } from '../types';
import { AttemptOutputs } from './attemptOutputs';
import { DEFAULT_SWEEP_LAG_MS } from './outputSweep';
import { buildCommit, judgedBy, stateLimitRejection, type BuiltCommit } from './commitBuilder';
import { DedupeCache } from './DedupeCache';
import { BatchApplyError, StateConflictError, StateContentionError, StateLimitError } from './errors';
import { NO_SEQUENCE } from './keys';
import { MAX_SEGMENT_BYTES } from './limits';
import { withAttempt } from './segmentAttempts';
import { fixedWindowRule, prunePending, sessionRule, type PendingRule } from './pendingWindows';
import { SessionCloser } from './SessionCloser';
import { StateShapeGuard } from './stateShapeGuard';
import { relatedShards } from './shardLineage';
import { commitOutputs, removeAttemptOutputs, writeSideOutputs } from './sideOutputs';
import type {
  ObjectStore,
  ProgressSnapshot,
  ResultEncoder,
  Segment,
  ShardProgress,
  StatefulPipeline,
  StateStore,
} from './types';
import { pipelineWatermark } from '../watermark/pipelineWatermark';
import { WindowCloser } from './WindowCloser';
import { padSequence } from '../sequence';
import { InvalidOptionError } from '../errors';

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

/** What applying one batch did. */
export interface BatchResult {
  readonly recordsIn: number;
  /** Records skipped because their shard progress already covered them (redelivery). */
  readonly duplicates: number;
  /** Producer duplicates dropped by the pipeline's `dedupeBy`. */
  readonly duplicateEvents: number;
  readonly rejected: number;
  readonly late: number;
  /** (key, window) partials committed. */
  readonly windowsWritten: number;
  readonly windowsEmitted: number;
  /** Commits of this batch that lost to a concurrent writer and were applied again. */
  readonly conflicts: number;
  /** Pipeline watermark after the batch (-Infinity before any event time was seen). */
  readonly watermark: EpochMillis;
}

/** What one tick did. */
export interface CloseResult {
  readonly watermark: EpochMillis;
  readonly windowsEmitted: number;
}

interface Dependencies {
  readonly pipeline: StatefulPipeline;
  readonly store: StateStore;
  readonly objects: ObjectStore;
  readonly encoder: ResultEncoder;
  readonly clock: Clock;
}

const DAY_MS = 86_400_000;

type Counts = Omit<BatchResult, 'recordsIn' | 'windowsEmitted' | 'conflicts' | 'watermark'>;
const NO_COUNTS: Counts = { duplicates: 0, duplicateEvents: 0, rejected: 0, late: 0, windowsWritten: 0 };
const add = (a: Counts, b: Counts): Counts => ({
  duplicates: a.duplicates + b.duplicates,
  duplicateEvents: a.duplicateEvents + b.duplicateEvents,
  rejected: a.rejected + b.rejected,
  late: a.late + b.late,
  windowsWritten: a.windowsWritten + b.windowsWritten,
});

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      `${name} must be an integer between ${min} and ${max} inclusive (given ${value})`,
    );
  }
  return value;
}

function withShard(snapshot: ProgressSnapshot, progress: ShardProgress): ProgressSnapshot {
  return {
    ...snapshot,
    shards: [...snapshot.shards.filter((s) => s.shardId !== progress.shardId), progress],
  };
}

export class BatchProcessor {
  readonly #deps: Dependencies;
  readonly #name: string;
  readonly #retentionMs: number;
  readonly #maxConflictRetries: number;
  readonly #concurrency: number;
  readonly #expectedShards: number;
  readonly #dedupe: DedupeCache;
  readonly #shardParents: ((shardId: string) => Promise<readonly string[]>) | undefined;
  /** Emits what every shard has frozen: windows (`WindowCloser`) or sessions (`SessionCloser`). */
  readonly #closer: Pick<WindowCloser, 'dueIn' | 'close'>;
  /** How partials map to pending windows and when those are dropped. */
  readonly #rule: PendingRule;
  /** The side outputs of attempts that did not commit. */
  readonly #attempts: AttemptOutputs;
  /** Registers the definition's state shape before its first commit. */
  readonly #shapes: StateShapeGuard;

  public constructor(deps: Dependencies, options: BatchProcessorOptions = {}) {
    this.#deps = deps;
    this.#name = deps.pipeline.spec.name;
    this.#expectedShards = deps.pipeline.spec.source.shards ?? 0;
    this.#shardParents = options.shardParents;
    this.#attempts = new AttemptOutputs(
      deps,
      checkRange('sweepLagMs', options.sweepLagMs ?? DEFAULT_SWEEP_LAG_MS, 0, DAY_MS),
    );
    this.#shapes = new StateShapeGuard(deps);
    this.#retentionMs = options.retentionMs ?? 7 * DAY_MS;
    if (!(this.#retentionMs > 0))
      throw new InvalidOptionError(`retentionMs must be positive (given ${this.#retentionMs})`);
    this.#maxConflictRetries = checkRange('maxConflictRetries', options.maxConflictRetries ?? 8, 1, 50);
    this.#concurrency = checkRange('concurrency', options.concurrency ?? 16, 1, 100);
    const maxEmitPerPass = checkRange('maxEmitPerPass', options.maxEmitPerPass ?? 500, 1, 10_000);
    this.#dedupe = new DedupeCache(
      checkRange('maxDedupeIds', options.maxDedupeIds ?? 1_000_000, 1, 100_000_000),
    );
    const window = deps.pipeline.spec.window;
    if (window.kind === 'session') {
      this.#closer = new SessionCloser(deps, {
        concurrency: this.#concurrency,
        expectedShards: this.#expectedShards,
      });
      this.#rule = sessionRule(window.gapMs);
    } else {
      this.#closer = new WindowCloser(deps, {
        maxEmitPerPass,
        concurrency: this.#concurrency,
        expectedShards: this.#expectedShards,
      });
      this.#rule = fixedWindowRule((w) => deps.pipeline.closeTime(w));
    }
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
    let counts = NO_COUNTS;
    try {
      snapshot = await store.readProgress(this.#name);
      await this.#shapes.register(snapshot);
      for (const shardRecords of byShard(records)) {
        const applied = await this.#applyShard(shardRecords, snapshot);
        snapshot = applied.snapshot;
        counts = add(counts, applied.counts);
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
   * The scheduled tick: registers shards that have delivered nothing yet (`shardIds`), raises the close
   * mark of every shard below the pipeline watermark to it (a shard raises its own at each commit; one that
   * has no batch, being idle or quiet, would otherwise hold its windows open until it has), and closes every
   * due window. `watermarkOverride` (+Infinity at the end of bounded input) raises every shard's mark to it,
   * so everything up to it closes. The tick is the only writer of a shard's item besides the shard itself.
   */
  public async tick(
    watermarkOverride?: EpochMillis,
    options: { readonly shardIds?: readonly string[] } = {},
  ): Promise<CloseResult> {
    const { store, clock, pipeline } = this.#deps;
    let snapshot = await store.readProgress(this.#name);
    const now = clock.now();
    const unknown = (options.shardIds ?? []).filter(
      (id) => !snapshot.shards.some((shard) => shard.shardId === id),
    );
    const watermark =
      watermarkOverride ??
      pipelineWatermark(snapshot.shards, now, pipeline.spec.time.idleTimeoutMs, this.#expectedShards);
    const bound = this.#rule.bound(snapshot.pipeline);
    const raise = snapshot.shards.filter((shard) => !shard.closed && shard.frozen < watermark);
    const writes: Promise<void>[] = [
      ...unknown.map((shardId) => this.#register(shardId, snapshot, now)),
      ...raise.map((shard) =>
        ignoreConflict(
          store.commit({
            progress: {
              ...shard,
              frozen: watermark,
              pending: prunePending(shard.pending, bound, this.#rule.valueOf),
              version: shard.version + 1,
            },
            expectedVersion: shard.version,
          }),
        ),
      ),
    ];
    await Promise.all(writes);
    if (writes.length > 0) snapshot = await store.readProgress(this.#name);
    // Shards with no commits coming (idle, or the end of bounded input) have their side outputs swept here.
    if (await this.#attempts.sweepIdle(snapshot, now, watermarkOverride !== undefined))
      snapshot = await store.readProgress(this.#name);
    let windowsEmitted = 0;
    for (let pass = 0; pass < 100; pass++) {
      const closed = await this.#closer.close(snapshot, watermarkOverride !== undefined);
      windowsEmitted += closed;
      if (closed === 0) break;
      snapshot = await store.readProgress(this.#name);
    }
    return { watermark, windowsEmitted };
  }

  /** A progress item for a shard that has delivered nothing yet: it holds the watermark until it goes idle. */
  async #register(shardId: string, snapshot: ProgressSnapshot, now: EpochMillis): Promise<void> {
    const closedWatermark = snapshot.pipeline?.closedWatermark ?? -Infinity;
    const progress: ShardProgress = {
      pipeline: this.#name,
      shardId,
      watermark: null,
      maxEventTime: null,
      lastSequence: NO_SEQUENCE,
      lastActivity: now,
      closed: false,
      frozen: closedWatermark,
      commits: 0,
      pending: [],
      version: 1,
    };
    await ignoreConflict(
      this.#deps.store.commit({ progress, expectedVersion: undefined, closedWatermarkRead: closedWatermark }),
    );
  }

  /** Applies one shard's records, reading progress again after a lost commit. */
  async #applyShard(
    records: readonly RawRecord[],
    first: ProgressSnapshot,
  ): Promise<{ snapshot: ProgressSnapshot; counts: Counts }> {
    const shardId = records[0]!.shardId;
    let snapshot = first;
    for (let attempt = 1; ; attempt += 1) {
      const base = snapshot.shards.find((shard) => shard.shardId === shardId);
      const last = base?.lastSequence ?? NO_SEQUENCE;
      const fresh = records.filter((record) => padSequence(record.sequenceNumber) > last);
      if (attempt === 1 && base !== undefined && fresh.length < records.length) {
        const covered = records.filter((record) => padSequence(record.sequenceNumber) <= last);
        await this.#attempts.sweepRedelivered(covered, base);
      }
      if (fresh.length === 0) return { snapshot, counts: { ...NO_COUNTS, duplicates: records.length } };
      try {
        const applied = await this.#commit(fresh, base, snapshot);
        return {
          snapshot: applied.snapshot,
          counts: { ...applied.counts, duplicates: records.length - fresh.length },
        };
      } catch (error) {
        if (!(error instanceof StateConflictError)) throw error;
        if (attempt >= this.#maxConflictRetries)
          throw new StateContentionError(
            `Commits of shard ${shardId} of ${this.#name} lost ${attempt} times in a row`,
            { cause: error },
          );
        snapshot = await this.#deps.store.readProgress(this.#name);
      }
    }
  }

  /**
   * Commits `fresh` on `base`: in one commit when it fits DynamoDB's limits, else in two halves (each
   * committed on the previous), down to a single record, which is dead-lettered (`STATE_LIMIT`).
   */
  async #commit(
    fresh: readonly RawRecord[],
    base: ShardProgress | undefined,
    snapshot: ProgressSnapshot,
  ): Promise<{ snapshot: ProgressSnapshot; counts: Counts }> {
    const { pipeline, store, objects } = this.#deps;
    const shardId = fresh[0]!.shardId;
    const judged = judgedBy(base, snapshot.pipeline);
    const outputs = commitOutputs(fresh, judged);
    const sweep = await this.#attempts.sweepBefore(base, outputs.time, this.#deps.clock.now());
    let prepared = pipeline.prepare(fresh, { closedWatermark: judged });
    const parents = base !== undefined ? (base.parents ?? []) : ((await this.#shardParents?.(shardId)) ?? []);
    const seen = await this.#seen(shardId, base, parents, snapshot);
    const stats = { duplicates: 0 };
    const partials = pipeline.combine(
      prepared,
      () => undefined,
      () => seen,
      stats,
    );
    let built = this.#build(fresh, base, snapshot, prepared, partials, stats.duplicates, {
      outputs,
      parents,
      sweep,
    });
    let tooBig = (built.segment?.body.byteLength ?? 0) > MAX_SEGMENT_BYTES;
    let wrote = false;
    for (;;) {
      if (tooBig && fresh.length > 1) {
        try {
          return await this.#commitHalves(fresh, base, snapshot);
        } catch (error) {
          // This attempt's objects (written before the store refused it) are orphans too once another
          // commit holds the place its halves lost.
          if (wrote && error instanceof StateConflictError)
            await this.#attempts.dropLost(fresh, outputs, base);
          throw error;
        }
      }
      if (tooBig) {
        const detail = `state of this record alone is ${built.segment?.body.byteLength ?? 0} bytes compressed; one commit holds at most ${MAX_SEGMENT_BYTES} (the segment limit of one commit)`;
        prepared = { ...prepared, cleaned: [], late: [], rejected: [stateLimitRejection(fresh[0]!, detail)] };
        built = this.#build(fresh, base, snapshot, prepared, [], 0, { outputs, parents, sweep });
      }
      if (!tooBig && built.segment !== undefined) {
        // The limits first: an attempt that cannot fit goes to halves before it writes any object.
        try {
          store.checkSegment(built.segment);
        } catch (error) {
          if (!(error instanceof StateLimitError)) throw error;
          tooBig = true;
          continue;
        }
      }
      try {
        await writeSideOutputs(objects, pipeline, fresh, outputs, prepared, prepared.late);
      } catch (error) {
        // Some of them may be written: orphans at once if a commit holds the place (best effort).
        await this.#attempts.dropLost(fresh, outputs, base).catch(() => undefined);
        throw error;
      }
      wrote = true;
      let progress = built.progress;
      let written: Segment | undefined;
      try {
        // The segment first, then the progress that names it (the commit chain: `segmentAttempts.ts`).
        const segment = built.segment === undefined ? undefined : await store.writeSegment(built.segment);
        written = segment;
        if (segment !== undefined)
          progress = withAttempt(
            progress,
            segment.commit,
            segment.attempt,
            segment.ttl,
            this.#deps.clock.now(),
          );
        await store.commit({
          progress,
          expectedVersion: base?.version,
          ...(base === undefined ? { closedWatermarkRead: judged } : {}),
          ...(segment !== undefined ? { segment } : {}),
        });
      } catch (error) {
        if (error instanceof StateConflictError) await this.#attempts.dropLost(fresh, outputs, base, written);
        else if (!(error instanceof StateLimitError))
          await this.#attempts.dropLost(fresh, outputs, base).catch(() => undefined);
        if (!(error instanceof StateLimitError) || tooBig) throw error;
        // The progress item or the transaction would not fit: smaller commits. A lone record is rejected
        // under this attempt's names, so the clean line it wrote must not stay behind (halves have names of
        // their own; the first that commits removes this attempt's objects with its superseded ones).
        if (fresh.length === 1) await removeAttemptOutputs(objects, pipeline, fresh, outputs);
        // A refused commit does not say whether this attempt still holds its place: a commit that took it meanwhile
        // has removed what it found under its prefixes already, so halves written now would be orphans.
        else if (await this.#attempts.dropLost(fresh, outputs, base))
          throw new StateConflictError(
            `Commit of shard ${shardId} lost its place while it was split`,
            undefined,
          );
        tooBig = true;
        continue;
      }
      if (seen !== undefined) this.#dedupe.committed(this.#name, shardId, progress, built.dedupeHashes);
      return {
        snapshot: withShard(snapshot, progress),
        counts: {
          duplicates: 0,
          duplicateEvents: stats.duplicates,
          rejected: prepared.rejected.length,
          late: prepared.late.length,
          windowsWritten: built.partials,
        },
      };
    }
  }

  async #commitHalves(
    fresh: readonly RawRecord[],
    base: ShardProgress | undefined,
    snapshot: ProgressSnapshot,
  ): Promise<{ snapshot: ProgressSnapshot; counts: Counts }> {
    const half = Math.ceil(fresh.length / 2);
    const first = await this.#commit(fresh.slice(0, half), base, snapshot);
    const shardId = fresh[0]!.shardId;
    const next = first.snapshot.shards.find((shard) => shard.shardId === shardId);
    const second = await this.#commit(fresh.slice(half), next, first.snapshot);
    return { snapshot: second.snapshot, counts: add(first.counts, second.counts) };
  }

  /**
   * The dedupe ids a commit of `shardId` checks against: the shard's own horizon and those of its related
   * shards (`shardLineage.ts`: parents after a reshard, the origin and other replays of a replay shard).
   */
  async #seen(
    shardId: string,
    base: ShardProgress | undefined,
    parents: readonly string[],
    snapshot: ProgressSnapshot,
  ): Promise<ReadonlySet<string>> {
    const own = await this.#dedupe.seen(this.#deps.store, this.#name, shardId, base);
    const related = relatedShards(shardId, parents, snapshot.shards);
    if (related.length === 0) return own;
    const byId = new Map(snapshot.shards.map((s) => [s.shardId, s]));
    const sets = [
      own,
      ...(await Promise.all(
        related.map((id) => this.#dedupe.seen(this.#deps.store, this.#name, id, byId.get(id))),
      )),
    ];
    return { has: (id: string) => sets.some((set) => set.has(id)) } as ReadonlySet<string>;
  }

  #build(
    fresh: readonly RawRecord[],
    base: ShardProgress | undefined,
    snapshot: ProgressSnapshot,
    prepared: PreparedRecords,
    partials: Parameters<typeof buildCommit>[0]['partials'],
    duplicates: number,
    names: Pick<Parameters<typeof buildCommit>[0], 'outputs' | 'parents' | 'sweep'>,
  ): BuiltCommit {
    const { pipeline, clock } = this.#deps;
    const shardId = fresh[0]!.shardId;
    return buildCommit({
      pipeline: this.#name,
      shardId,
      base,
      others: snapshot.shards.filter((shard) => shard.shardId !== shardId),
      pipelineProgress: snapshot.pipeline,
      fresh,
      prepared,
      partials,
      duplicates,
      ...names,
      now: clock.now(),
      maxOutOfOrdernessMs: pipeline.spec.time.maxOutOfOrdernessMs,
      idleTimeoutMs: pipeline.spec.time.idleTimeoutMs,
      expectedShards: this.#expectedShards,
      retentionMs: this.#retentionMs,
      rule: this.#rule,
      shape: pipeline.stateFingerprint,
    });
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

/** A conditional write another writer got to first: nothing to do (the next read sees its state). */
async function ignoreConflict(write: Promise<void>): Promise<void> {
  await write.catch((error: unknown) => {
    if (!(error instanceof StateConflictError)) throw error;
  });
}
