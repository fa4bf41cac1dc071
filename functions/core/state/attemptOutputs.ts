/**
 * What commit attempts that did not commit leave behind: their segment (only after a definite loss, see
 * `dropLost`) and their side outputs (`clean/`, `rejected/`, `late/`). An attempt writes
 * its objects before it commits, under names from its first record (`sideOutputs.ts`), so an attempt that
 * crashes or loses its place leaves them behind. Three moments remove them, each once it is certain which
 * objects are a commit's:
 * - after a loss (`dropLost`): once a commit holds the attempt's place in the shard's log;
 * - behind the log (`sweepBefore`, `sweepIdle`): once no attempt at a range of commits can still be writing,
 *   whatever no commit made there (`outputSweep.ts`);
 * - on a redelivery (`sweepRedelivered`): what is under records the shard has committed and matches no
 *   commit's range in the commit log (`commitLog.ts`).
 */
import type { EpochMillis, RawRecord } from '../types';
import { committedRanges, partitionsOf, removeOrphanedOutputs } from './commitLog';
import { landed, SegmentExpiredError } from './errors';
import { planSweep, planSweepAll, sweepOutputs } from './outputSweep';
import { removeLostOutputs } from './sideOutputs';
import { committedAttempt } from './segmentAttempts';
import type {
  CommitOutputs,
  ObjectStore,
  OutputSweep,
  ProgressSnapshot,
  Segment,
  ShardProgress,
  StatefulPipeline,
  StateStore,
} from './types';
import { padSequence } from '../sequence';

export class AttemptOutputs {
  public constructor(
    private readonly deps: {
      readonly store: StateStore;
      readonly objects: ObjectStore;
      readonly pipeline: StatefulPipeline;
    },
    /** How far behind a shard's commits its side outputs are swept (`outputSweep.ts`). */
    private readonly sweepLagMs: number,
  ) {}

  /**
   * After losing a commit: removes this attempt's side outputs unless they are the winner's. Only once a
   * commit holds the attempt's place in the shard's log (the next commit number, from the same first record):
   * no other commit can ever take that place, so names that are not the winner's are orphans. Until then
   * nothing is removed (a later commit there may write the same names); the sweep behind the log removes
   * the rest (`outputSweep.ts`). Also called, best effort, after a write or commit failed for another
   * reason, and before splitting a refused commit. Returns whether a commit holds the place.
   *
   * `lost`: the segment of an attempt whose commit was refused (a definite conditional failure, so that
   * commit can never land later). Unless the stored progress names it (a retried commit of ours that had
   * landed), it is deleted, so that the next attempt at its place takes its number again and the progress
   * records no attempt (a tick raising this shard's close mark loses it one commit now and then).
   */
  public async dropLost(
    fresh: readonly RawRecord[],
    outputs: CommitOutputs,
    base: ShardProgress | undefined,
    lost?: Segment,
  ): Promise<boolean> {
    const { store, objects, pipeline } = this.deps;
    const shardId = fresh[0]!.shardId;
    const place = (base?.commits ?? 0) + 1;
    const stored = (await store.readProgress(pipeline.spec.name)).shards.find((s) => s.shardId === shardId);
    if (
      lost !== undefined &&
      (stored === undefined || committedAttempt(stored, lost.commit) !== lost.attempt)
    )
      await store.deleteSegment(lost);
    if (stored === undefined || stored.commits < place) return false;
    const [winner] = await store.readSegments(stored, place, place);
    if (winner !== undefined && winner.firstSequence === outputs.firstSequence)
      await removeLostOutputs(objects, pipeline, fresh, outputs, winner);
    return true;
  }

  /**
   * A redelivery (records the shard committed already): earlier attempts at these records may have written
   * side outputs and failed before committing, after the commit that covers them had cleaned its prefix (a
   * stalled copy, a crash). No commit can start at a covered record any more, so what is there and is no
   * commit's range is removed. Such an attempt's own check (`dropLost`) is best effort and nothing else looks
   * at that prefix again, so a failure here fails the batch: its redelivery sweeps again (or, once Lambda
   * gives up on it, `replay-failures` removes them). Only a range older than the commit log's retention is
   * left as it is (no log to tell the commits' objects from orphans).
   */
  public async sweepRedelivered(covered: readonly RawRecord[], base: ShardProgress): Promise<void> {
    const { store, objects, pipeline } = this.deps;
    const first = padSequence(covered[0]!.sequenceNumber);
    const last = padSequence(covered[covered.length - 1]!.sequenceNumber);
    let ranges;
    try {
      ranges = await committedRanges(store, base, first, last);
    } catch (error) {
      if (error instanceof SegmentExpiredError) return;
      throw error;
    }
    await removeOrphanedOutputs(
      { objects, pipeline },
      base.shardId,
      first,
      last,
      partitionsOf(covered),
      ranges,
    );
  }

  /**
   * Before a commit on `base` whose first record arrived at `time`: sweeps what is due behind the shard's
   * log (`outputSweep.ts`) and returns the mark the commit carries.
   */
  public async sweepBefore(
    base: ShardProgress | undefined,
    time: EpochMillis,
    now: EpochMillis,
  ): Promise<OutputSweep> {
    const plan = planSweep(base, time, now, this.sweepLagMs);
    if (plan.step !== undefined && base !== undefined) await sweepOutputs(this.deps, base, plan.step);
    return plan.next;
  }

  /**
   * The tick's part: sweeps the shards no commit will sweep soon — those idle for the lag, or every shard at
   * the end of bounded input (no attempt can be in flight then) — and stores their marks (a shard that
   * commits meanwhile wins; its next commit sweeps). Returns whether any mark was written.
   */
  public async sweepIdle(
    snapshot: ProgressSnapshot,
    now: EpochMillis,
    endOfInput: boolean,
  ): Promise<boolean> {
    let wrote = false;
    for (const shard of snapshot.shards) {
      if (shard.commits === 0 || (!endOfInput && now - shard.lastActivity < this.sweepLagMs)) continue;
      const plan = planSweepAll(shard, now);
      if (plan.step === undefined) continue;
      await sweepOutputs(this.deps, shard, plan.step);
      const stored = await landed(
        this.deps.store.commit({
          progress: { ...shard, sweep: plan.next, version: shard.version + 1 },
          expectedVersion: shard.version,
        }),
      );
      wrote ||= stored;
    }
    return wrote;
  }
}
