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
 * An entry is kept as long as its segment: it is dropped once the segment's TTL has passed (by the
 * committing instance's clock), and `attemptsFrom` then says from which commit on the record is whole. A
 * segment's TTL grows with its commit time, so every commit below `attemptsFrom` has expired too: readers
 * treat it as expired (the commit log says so; close passes and dedupe never read that far back).
 */
import type { EpochMillis } from '../types';
import type { ShardProgress } from './types';

/**
 * The committed attempt of `commit` as `progress` records it; undefined when the commit is not committed in
 * `progress` or has expired from the record.
 */
export function committedAttempt(
  progress: Pick<ShardProgress, 'commits' | 'attempts' | 'attemptsFrom'>,
  commit: number,
): number | undefined {
  if (commit < 1 || commit > progress.commits || commit < (progress.attemptsFrom ?? 1)) return undefined;
  for (const [c, attempt] of progress.attempts ?? []) if (c === commit) return attempt;
  return 0;
}

/**
 * `progress` (which commits `commit`) recording that `attempt` is its segment, which expires at `expiresAt`
 * (epoch seconds), and dropping the entries of segments expired at `now`.
 */
export function withAttempt(
  progress: ShardProgress,
  commit: number,
  attempt: number,
  expiresAt: number,
  now: EpochMillis,
): ShardProgress {
  const before = progress.attempts ?? [];
  let attemptsFrom = progress.attemptsFrom ?? 1;
  const kept = before.filter(([c, , expires]) => {
    if (c === commit) return false;
    if (expires * 1000 >= now) return true;
    attemptsFrom = Math.max(attemptsFrom, c + 1);
    return false;
  });
  if (attempt === 0 && kept.length === before.length) return progress;
  if (attempt !== 0) kept.push([commit, attempt, expiresAt]);
  kept.sort((a, b) => a[0] - b[0]);
  const { attempts: _attempts, attemptsFrom: _from, ...rest } = progress;
  return {
    ...rest,
    ...(kept.length > 0 ? { attempts: kept } : {}),
    ...(attemptsFrom > 1 ? { attemptsFrom } : {}),
  };
}
