/**
 * Which attempt at a commit's segment is the committed one (the commit chain, layout (b) of
 * `functions/core/README.md`).
 *
 * A batch writes its segment first, with plain conditional puts (one write unit per KB), then advances its
 * shard's progress with one conditional put that names the commit: no transaction, whose every item DynamoDB
 * bills twice. Between the two writes an attempt can crash, or lose its place to a racing copy of the batch,
 * and leave its segment behind. So each write of commit N's segment is an attempt of its own: the first
 * free attempt number (0, 1, …; the chunk-0 put claims it, conditioned on absence), in the sort key. The
 * progress item that commits N records which attempt it was when it is not 0 (a crash or a race happened;
 * the usual commit adds nothing), and readers take exactly that attempt of each commit, so a segment that
 * no commit named is never read, however it was left behind.
 *
 * The record is bounded: past {@link MAX_KEPT_ATTEMPTS} entries the oldest ones below every pending
 * window's first commit are forgotten, and `attemptsFrom` says from which commit on the record is whole.
 * A reader never needs such a commit for closing or dedupe (those start at the first pending commit); the
 * commit log (`commitLog.ts`) treats it as expired.
 */
import { firstPendingCommit } from './pendingWindows';
import type { ShardProgress } from './types';

/** Most non-zero attempts a progress item records (about 12 bytes each). */
export const MAX_KEPT_ATTEMPTS = 64;

/**
 * The committed attempt of `commit` as `progress` records it; undefined when the commit is not committed in
 * `progress` or its record was forgotten.
 */
export function committedAttempt(
  progress: Pick<ShardProgress, 'commits' | 'attempts' | 'attemptsFrom'>,
  commit: number,
): number | undefined {
  if (commit < 1 || commit > progress.commits || commit < (progress.attemptsFrom ?? 1)) return undefined;
  for (const [c, attempt] of progress.attempts ?? []) if (c === commit) return attempt;
  return 0;
}

/** `progress` (which commits `commit`) recording that `attempt` is its segment, forgetting what it may. */
export function withAttempt(progress: ShardProgress, commit: number, attempt: number): ShardProgress {
  const kept = (progress.attempts ?? []).filter(([c]) => c !== commit);
  if (attempt === 0 && kept.length === (progress.attempts ?? []).length) return progress;
  if (attempt !== 0) kept.push([commit, attempt]);
  kept.sort((a, b) => a[0] - b[0]);
  let attemptsFrom = progress.attemptsFrom ?? 1;
  const floor = firstPendingCommit(progress);
  while (kept.length > MAX_KEPT_ATTEMPTS && kept[0]![0] < floor) {
    attemptsFrom = Math.max(attemptsFrom, kept.shift()![0] + 1);
  }
  const { attempts: _attempts, attemptsFrom: _from, ...rest } = progress;
  return {
    ...rest,
    ...(kept.length > 0 ? { attempts: kept } : {}),
    ...(attemptsFrom > 1 ? { attemptsFrom } : {}),
  };
}
