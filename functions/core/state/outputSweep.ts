/**
 * The sweep of side outputs behind a shard's commit log. An attempt writes its `clean/`, `rejected/` and
 * `late/` objects before it commits (`sideOutputs.ts`), so an attempt that crashes or loses leaves them
 * behind under a range of records some commit applied. Once a place in the log is taken, no other attempt
 * at it can ever commit, so such objects are orphans for good; but an attempt that started before the place
 * was taken may still be writing (a stalled copy), for as long as an invocation lasts. So the sweep runs a
 * lag behind: the commits a shard had at wall time `targetAt` are swept once `lagMs` (longer than any
 * invocation) has passed, by the shard's next commit (which carries the mark in its progress, at no extra
 * write) or, for a shard whose last commit is that old (no commits coming), by the tick. One sweep lists each partition once, from
 * the first record it covers on (`StartAfter`), instead of three listings after every commit.
 */
import type { EpochMillis } from '../types';
import { removeOrphanedOutputs } from './commitLog';
import { hivePartition } from './paths';
import type {
  ObjectStore,
  OutputSweep,
  ShardProgress,
  StatefulPipeline,
  StateStore,
  TimeRange,
} from './types';

/** Lambda's longest invocation (15 minutes) and a minute for writes in flight when it ends. */
export const DEFAULT_SWEEP_LAG_MS = 16 * 60_000;

/** Commits one sweep covers at most (their ranges are read in one query; the rest go to the next commit). */
export const MAX_SWEEP_COMMITS = 500;

const HOUR_MS = 3_600_000;

/** A minute of slack each way around the arrival times keeps a partition boundary from hiding an object. */
const PARTITION_SLACK_MS = 60_000;

/** Commits `from..to` to sweep, and the range of their first records' arrival times (their partitions). */
export interface SweepStep {
  readonly from: number;
  readonly to: number;
  readonly arrivals: TimeRange;
}

/** The mark a commit carries and the step to sweep before it, if one is due. */
export interface SweepPlan {
  readonly step?: SweepStep;
  readonly next: OutputSweep;
}

const span = (a: TimeRange, b: TimeRange): TimeRange => ({
  from: Math.min(a.from, b.from),
  to: Math.max(a.to, b.to),
});

/**
 * The plan of the commit that takes place `base.commits + 1` at wall time `now`, its first record arrived at
 * `time`: once `lagMs` has passed since the mark's target was set, the commits up to the target are due (at
 * most {@link MAX_SWEEP_COMMITS} at once); when they are all swept, the commits made since become the next
 * target. The commit itself joins the commits after the target. A shard's first commit starts the mark; a
 * shard without one (written before marks existed) starts at its current commit.
 */
export function planSweep(
  base: ShardProgress | undefined,
  time: EpochMillis,
  now: EpochMillis,
  lagMs: number,
): SweepPlan {
  const own = { from: time, to: time };
  const commits = base?.commits ?? 0;
  if (base === undefined || commits === 0)
    return { next: { swept: 0, target: 0, targetAt: now, due: own, next: own } };
  let mark = base.sweep ?? { swept: commits, target: commits, targetAt: now, due: own, next: own };
  let step: SweepStep | undefined;
  if (mark.target > mark.swept && now - mark.targetAt >= lagMs) {
    const to = Math.min(mark.target, mark.swept + MAX_SWEEP_COMMITS);
    step = { from: mark.swept + 1, to, arrivals: mark.due };
    mark = { ...mark, swept: to };
  }
  // Swept through the target: what the shard committed since is the next one.
  if (mark.swept === mark.target && commits > mark.target)
    mark = { ...mark, target: commits, targetAt: now, due: mark.next };
  // This commit is the first after the target, or joins those after it.
  mark = { ...mark, next: commits === mark.target ? own : span(mark.next, own) };
  return step === undefined ? { next: mark } : { step, next: mark };
}

/**
 * Every commit of `base` due at once: at the end of bounded input (no attempt in flight), or for a shard
 * whose last commit is older than the lag (every attempt at its places began before that commit).
 */
export function planSweepAll(base: ShardProgress, now: EpochMillis): SweepPlan {
  const latest = base.outputs?.time ?? now;
  const none = { from: latest, to: latest };
  const mark = base.sweep ?? { swept: 0, target: 0, targetAt: now, due: none, next: none };
  const next = { swept: base.commits, target: base.commits, targetAt: now, due: none, next: none };
  if (base.commits <= mark.swept) return { next: { ...mark, target: mark.swept } };
  const arrivals =
    mark.target === mark.swept
      ? mark.next
      : mark.target === base.commits
        ? mark.due
        : span(mark.due, mark.next);
  return { step: { from: mark.swept + 1, to: base.commits, arrivals }, next };
}

/** The `dt=/hour=` partitions of the arrival times in `range`, with the slack either side. */
export function partitionsBetween(range: TimeRange): string[] {
  const first = Math.floor((range.from - PARTITION_SLACK_MS) / HOUR_MS) * HOUR_MS;
  const out: string[] = [];
  for (let hour = first; hour <= range.to + PARTITION_SLACK_MS; hour += HOUR_MS)
    out.push(hivePartition(hour));
  return out;
}

/**
 * Sweeps `step` of the shard of `progress`: reads the ranges its commits applied and removes, under the
 * partitions they can be in, every side output whose first record is in them and which is no commit's.
 * Commits the log no longer has (expired) leave the step as it is: no range can be told from an orphan.
 * Returns the number of objects removed.
 */
export async function sweepOutputs(
  deps: { readonly store: StateStore; readonly objects: ObjectStore; readonly pipeline: StatefulPipeline },
  progress: ShardProgress,
  step: SweepStep,
): Promise<number> {
  const ranges = await deps.store.readCommitLog(progress, step.from, step.to);
  if (ranges.length !== step.to - step.from + 1) return 0;
  return removeOrphanedOutputs(
    deps,
    progress.shardId,
    ranges[0]!.firstSequence,
    ranges[ranges.length - 1]!.lastSequence,
    partitionsBetween(step.arrivals),
    ranges,
  );
}
