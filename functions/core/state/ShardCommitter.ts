/**
 * The commit of one shard's records of a batch (DESIGN.md §3: a batch commits once). Records at or below
 * the shard's committed sequence are skipped (redelivery); the rest are prepared, combined against the
 * shard's dedupe horizon, and committed: side outputs first, then the segment, then the progress that
 * names it (`segmentAttempts.ts`), conditioned on the progress version read. A commit that loses to a
 * concurrent writer is read again and retried; one that does not fit DynamoDB's limits is committed in
 * halves, down to a single record, which is dead-lettered (`STATE_LIMIT`).
 */
import type { PublishEntry } from '../engine/streamTap';
import type { PreparedRecords } from '../engine/types';
import { padSequence } from '../sequence';
import type { Clock, RawRecord } from '../types';
import type { AttemptOutputs } from './attemptOutputs';
import { buildCommit, judgedBy, stateLimitRejection, type BuiltCommit } from './commitBuilder';
import type { DedupeCache } from './DedupeCache';
import { StateConflictError, StateContentionError, StateLimitError } from './errors';
import { NO_SEQUENCE } from './keys';
import { MAX_SEGMENT_BYTES } from './limits';
import { lateMark, type PendingRule } from './pendingWindows';
import { startingCondition } from './closeableThrough';
import { withAttempt } from './segmentAttempts';
import { relatedShards } from './shardLineage';
import { publishedAgain } from './streamPublisher';
import { commitOutputs, removeAttemptOutputs, writeSideOutputs } from './sideOutputs';
import type {
  ObjectStore,
  ProgressSnapshot,
  Segment,
  ShardProgress,
  StatefulPipeline,
  StateStore,
} from './types';

/** What committing one shard's records counted (the batch's result sums them over its shards). */
export interface CommitCounts {
  /** Records skipped because their shard progress already covered them (redelivery). */
  readonly duplicates: number;
  /** Producer duplicates dropped by the pipeline's `dedupeBy`. */
  readonly duplicateEvents: number;
  readonly rejected: number;
  readonly late: number;
  /** (key, window) partials committed. */
  readonly windowsWritten: number;
}

export const NO_COUNTS: CommitCounts = {
  duplicates: 0,
  duplicateEvents: 0,
  rejected: 0,
  late: 0,
  windowsWritten: 0,
};

export const addCounts = (a: CommitCounts, b: CommitCounts): CommitCounts => ({
  duplicates: a.duplicates + b.duplicates,
  duplicateEvents: a.duplicateEvents + b.duplicateEvents,
  rejected: a.rejected + b.rejected,
  late: a.late + b.late,
  windowsWritten: a.windowsWritten + b.windowsWritten,
});

/** A shard's commit: the progress snapshot after it, what it counted, and what it publishes. */
export interface ShardCommit {
  readonly snapshot: ProgressSnapshot;
  readonly counts: CommitCounts;
  /**
   * What `.toStream()` publishes for the shard's records at or below the commit point, in record order: those
   * this commit applied, and those an earlier one did (a redelivery), derived again (`streamPublisher.ts`).
   */
  readonly published: readonly PublishEntry[];
}

/** What the committer works with (one per `BatchProcessor`). */
export interface ShardCommitterDependencies {
  readonly pipeline: StatefulPipeline;
  readonly store: StateStore;
  readonly objects: ObjectStore;
  readonly clock: Clock;
  /** The shard count the pipeline's source declares (0: unknown). */
  readonly expectedShards: number;
  readonly retentionMs: number;
  readonly maxConflictRetries: number;
  readonly dedupe: DedupeCache;
  readonly shardParents: ((shardId: string) => Promise<readonly string[]>) | undefined;
  /** How partials map to pending windows and when those are dropped. */
  readonly rule: PendingRule;
  /** The side outputs of attempts that did not commit. */
  readonly attempts: AttemptOutputs;
}

function withShard(snapshot: ProgressSnapshot, progress: ShardProgress): ProgressSnapshot {
  return {
    ...snapshot,
    shards: [...snapshot.shards.filter((s) => s.shardId !== progress.shardId), progress],
  };
}

export class ShardCommitter {
  readonly #deps: ShardCommitterDependencies;
  readonly #name: string;

  public constructor(deps: ShardCommitterDependencies) {
    this.#deps = deps;
    this.#name = deps.pipeline.spec.name;
  }

  /** Applies one shard's records, reading progress again after a lost commit. */
  public async applyShard(records: readonly RawRecord[], first: ProgressSnapshot): Promise<ShardCommit> {
    const { attempts, store, maxConflictRetries } = this.#deps;
    const shardId = records[0]!.shardId;
    let snapshot = first;
    for (let attempt = 1; ; attempt += 1) {
      const base = snapshot.shards.find((shard) => shard.shardId === shardId);
      const last = base?.lastSequence ?? NO_SEQUENCE;
      const fresh = records.filter((record) => padSequence(record.sequenceNumber) > last);
      if (attempt === 1 && base !== undefined && fresh.length < records.length) {
        const covered = records.filter((record) => padSequence(record.sequenceNumber) <= last);
        await attempts.sweepRedelivered(covered, base);
      }
      // Records are in sequence order: those at or below the commit point are a prefix.
      const covered = records.slice(0, records.length - fresh.length);
      if (fresh.length === 0)
        return {
          snapshot,
          counts: { ...NO_COUNTS, duplicates: records.length },
          published: publishedAgain(this.#deps.pipeline, covered, base?.stateLimited),
        };
      try {
        const applied = await this.#commit(fresh, base, snapshot);
        return {
          snapshot: applied.snapshot,
          counts: { ...applied.counts, duplicates: covered.length },
          published: [
            ...publishedAgain(this.#deps.pipeline, covered, base?.stateLimited),
            ...applied.published,
          ],
        };
      } catch (error) {
        if (!(error instanceof StateConflictError)) throw error;
        if (attempt >= maxConflictRetries)
          throw new StateContentionError(
            `Commits of shard ${shardId} of ${this.#name} lost ${attempt} times in a row`,
            { cause: error },
          );
        snapshot = await store.readProgress(this.#name);
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
  ): Promise<ShardCommit> {
    const { pipeline, store, objects, attempts } = this.#deps;
    const shardId = fresh[0]!.shardId;
    const lateness = pipeline.spec.time.allowedLatenessMs;
    const judged = judgedBy(base, snapshot.pipeline, lateness);
    // Late records are judged by the shard's close marks, raised past every emitted window (`lateMark`).
    const late = lateMark(judged, snapshot.pipeline, lateness);
    const outputs = commitOutputs(fresh, late);
    const sweep = await attempts.sweepBefore(base, outputs.time, this.#deps.clock.now());
    let prepared = pipeline.prepare(fresh, { closedWatermark: late });
    const parents =
      base !== undefined ? (base.parents ?? []) : ((await this.#deps.shardParents?.(shardId)) ?? []);
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
    /** Why the store refused this commit whole (a lone record's dead letter names it). */
    let refusal: string | undefined;
    let wrote = false;
    for (;;) {
      if (tooBig && fresh.length > 1) {
        try {
          return await this.#commitHalves(fresh, base, snapshot);
        } catch (error) {
          // This attempt's objects (written before the store refused it) are orphans too once another
          // commit holds the place its halves lost.
          if (wrote && error instanceof StateConflictError) await attempts.dropLost(fresh, outputs, base);
          throw error;
        }
      }
      if (tooBig) {
        const detail =
          refusal ??
          `state of this record alone is ${built.segment?.body.byteLength ?? 0} bytes compressed; one commit holds at most ${MAX_SEGMENT_BYTES} (the segment limit of one commit)`;
        prepared = {
          ...prepared,
          cleaned: [],
          late: [],
          published: [],
          rejected: [stateLimitRejection(fresh[0]!, detail)],
        };
        built = this.#build(fresh, base, snapshot, prepared, [], 0, { outputs, parents, sweep });
      }
      // The limits first: an attempt that cannot fit goes to halves (or, a lone record, is dead-lettered)
      // before it writes any object, so what replaces it starts at attempt 0 and adds no attempt entry to
      // the progress it could not fit in. A dead letter that cannot fit either fails the batch.
      try {
        if (!tooBig && built.segment !== undefined) store.checkSegment(built.segment);
        store.checkProgress(built.progress, built.partials > 0);
      } catch (error) {
        if (!(error instanceof StateLimitError) || tooBig) throw error;
        tooBig = true;
        refusal = error.message;
        continue;
      }
      // The side outputs and the segment are both written before the progress that names the segment (the
      // commit chain: `segmentAttempts.ts`), and neither depends on the other, so they are written at once:
      // one round trip less per batch. A segment written beside side outputs that failed is named by no
      // commit, so it is never read, and it expires with its TTL. Each starts inside an async function: a
      // store that threw synchronously is settled here too, never escaping while the other write is in flight.
      const toWrite = built.segment;
      const [sides, segmentWrite] = await Promise.allSettled([
        (async () => writeSideOutputs(objects, pipeline, fresh, outputs, prepared, prepared.late))(),
        (async () => (toWrite === undefined ? undefined : store.writeSegment(toWrite)))(),
      ]);
      if (sides.status === 'rejected') {
        // Some of them may be written: orphans at once if a commit holds the place (best effort).
        // This attempt never commits: its segment (written beside them) is deleted, so the retry takes its number.
        const orphan = segmentWrite.status === 'fulfilled' ? segmentWrite.value : undefined;
        await attempts.dropLost(fresh, outputs, base, orphan).catch(() => undefined);
        throw sides.reason;
      }
      wrote = true;
      let progress = built.progress;
      let written: Segment | undefined;
      try {
        if (segmentWrite.status === 'rejected') throw segmentWrite.reason;
        const segment = segmentWrite.value;
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
          ...(base === undefined ? startingCondition(snapshot.pipeline) : {}),
          ...(segment !== undefined ? { segment } : {}),
          addsState: built.partials > 0,
        });
      } catch (error) {
        if (error instanceof StateConflictError) await attempts.dropLost(fresh, outputs, base, written);
        else if (!(error instanceof StateLimitError))
          await attempts.dropLost(fresh, outputs, base).catch(() => undefined);
        if (!(error instanceof StateLimitError) || tooBig) throw error;
        // The progress item or the transaction would not fit: smaller commits. A lone record is rejected
        // under this attempt's names, so the clean line it wrote must not stay behind (halves have names of
        // their own; the first that commits removes this attempt's objects with its superseded ones).
        if (fresh.length === 1) await removeAttemptOutputs(objects, pipeline, fresh, outputs);
        // A refused commit does not say whether this attempt still holds its place: a commit that took it meanwhile
        // has removed what it found under its prefixes already, so halves written now would be orphans.
        else if (await attempts.dropLost(fresh, outputs, base))
          throw new StateConflictError(
            `Commit of shard ${shardId} lost its place while it was split`,
            undefined,
          );
        tooBig = true;
        refusal = error.message;
        continue;
      }
      if (seen !== undefined) this.#deps.dedupe.committed(this.#name, shardId, progress, built.dedupeHashes);
      return {
        snapshot: withShard(snapshot, progress),
        counts: {
          duplicates: 0,
          duplicateEvents: stats.duplicates,
          rejected: prepared.rejected.length,
          late: prepared.late.length,
          windowsWritten: built.partials,
        },
        published: prepared.published,
      };
    }
  }

  async #commitHalves(
    fresh: readonly RawRecord[],
    base: ShardProgress | undefined,
    snapshot: ProgressSnapshot,
  ): Promise<ShardCommit> {
    const half = Math.ceil(fresh.length / 2);
    const first = await this.#commit(fresh.slice(0, half), base, snapshot);
    const shardId = fresh[0]!.shardId;
    const next = first.snapshot.shards.find((shard) => shard.shardId === shardId);
    const second = await this.#commit(fresh.slice(half), next, first.snapshot);
    return {
      snapshot: second.snapshot,
      counts: addCounts(first.counts, second.counts),
      published: [...first.published, ...second.published],
    };
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
    const { dedupe, store } = this.#deps;
    const own = await dedupe.seen(store, this.#name, shardId, base);
    const related = relatedShards(shardId, parents, snapshot.shards);
    if (related.length === 0) return own;
    const byId = new Map(snapshot.shards.map((s) => [s.shardId, s]));
    const sets = [
      own,
      ...(await Promise.all(related.map((id) => dedupe.seen(store, this.#name, id, byId.get(id))))),
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
      allowedLatenessMs: pipeline.spec.time.allowedLatenessMs,
      idleTimeoutMs: pipeline.spec.time.idleTimeoutMs,
      expectedShards: this.#deps.expectedShards,
      retentionMs: this.#deps.retentionMs,
      rule: this.#deps.rule,
      shape: pipeline.stateFingerprint,
    });
  }
}
