/**
 * What commit attempts that did not commit leave behind: their segment (only after a definite loss, see
 * `dropLost`) and their side outputs (`clean/`, `rejected/`, `late/`). An attempt writes
 * its objects before it commits, under names from its first record (`sideOutputs.ts`), so an attempt that
 * crashes or loses its place leaves them behind. Three moments remove them, each once it is certain which
 * objects are a commit's:
 * - after a loss (`dropLost`): once a commit holds the attempt's place in the shard's log;
 * - after a commit (`cleanUp`): what superseded attempts left under the prefixes of the shard's last commit;
 * - on a redelivery (`sweepRedelivered`): what is under records the shard has committed and matches no
 *   commit's range in the commit log (`commitLog.ts`).
 */
import type { RawRecord } from '../types';
import { committedRanges, removeOrphanedOutputs } from './commitLog';
import { SegmentExpiredError } from './errors';
import { removeLostOutputs, removeSupersededOutputs } from './sideOutputs';
import { committedAttempt } from './segmentAttempts';
import type {
  CommitOutputs,
  ObjectStore,
  Segment,
  ShardProgress,
  StatefulPipeline,
  StateStore,
} from './types';
import { padSequence } from '../sequence';

/** Commits remembered as cleaned up (per instance); the oldest is forgotten past this. */
const MAX_CLEANED = 10_000;

export class AttemptOutputs {
  /** Commits (shard and last sequence) whose superseded side outputs this instance has removed. */
  readonly #cleaned = new Set<string>();

  public constructor(
    private readonly deps: {
      readonly store: StateStore;
      readonly objects: ObjectStore;
      readonly pipeline: StatefulPipeline;
    },
  ) {}

  /**
   * After losing a commit: removes this attempt's side outputs unless they are the winner's. Only once a
   * commit holds the attempt's place in the shard's log (the next commit number, from the same first record):
   * no other commit can ever take that place, so names that are not the winner's are orphans. Until then
   * nothing is removed (a later commit there may write the same names); the commit that takes the place
   * removes the rest (`cleanUp`). Also called, best effort, after a write or commit failed for another
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
    await removeOrphanedOutputs({ objects, pipeline }, base.shardId, first, last, covered, ranges);
  }

  /** Removes what superseded attempts left under the prefixes of `progress`'s last commit (once per instance). */
  public async cleanUp(progress: ShardProgress): Promise<void> {
    if (progress.outputs === undefined) return;
    const id = `${progress.shardId}\u0000${progress.lastSequence}`;
    if (this.#cleaned.has(id)) return;
    await removeSupersededOutputs(this.deps.objects, this.deps.pipeline, progress);
    this.#cleaned.add(id);
    if (this.#cleaned.size > MAX_CLEANED) this.#cleaned.delete(this.#cleaned.values().next().value as string);
  }
}
