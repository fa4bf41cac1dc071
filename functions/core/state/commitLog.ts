/**
 * What a shard's commit log says about a range of its sequence numbers, and the removal of side outputs no
 * commit made there. Once the shard's position is past a record, no commit can start at it any more, so an
 * object whose first record is in such a range and whose range is no commit's is an orphan for good (an
 * attempt that wrote it and failed), whoever finds it.
 */
import { BUCKET_PREFIX } from '../constants';
import type { RawRecord } from '../types';
import { mapWithConcurrency } from './concurrency';
import { SegmentExpiredError } from './errors';
import { hivePartition } from './paths';
import { lateObjectTag } from './sideOutputs';
import type { CommitRange, ObjectStore, Segment, ShardProgress, StatefulPipeline, StateStore } from './types';

/**
 * The commits of the shard whose ranges meet `first..last`: found by bisection over commit numbers (each
 * segment's first sequence grows with its number), then walking back while the ranges still meet. Segments
 * older than the state's retention are gone (DynamoDB TTL takes the oldest first): the search looks past
 * them, and a walk that reaches one throws `SegmentExpiredError`, since an expired commit may hold part of
 * the range (its objects must not pass for orphans).
 */
export async function committedRanges(
  store: StateStore,
  progress: ShardProgress,
  first: string,
  last: string,
): Promise<Segment[]> {
  const segmentOf = async (commit: number): Promise<Segment | undefined> =>
    (await store.readSegments(progress, commit, commit))[0];
  // The latest commit whose first record is at or before `last`, and the newest expired one met.
  let low = 1;
  let high = progress.commits;
  let found: number | undefined;
  let expired = 0;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const segment = await segmentOf(middle);
    if (segment === undefined) {
      expired = Math.max(expired, middle);
      low = middle + 1;
    } else if (segment.firstSequence <= last) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  const out: Segment[] = [];
  for (let commit = found ?? expired; commit >= 1; commit--) {
    const segment = await segmentOf(commit);
    if (segment === undefined) {
      throw new SegmentExpiredError(
        `Commit ${commit} of shard ${progress.shardId} has expired: the log cannot say which records of ${first}..${last} were applied (the range is older than the state's retention)`,
      );
    }
    if (segment.lastSequence < first) break;
    out.push(segment);
  }
  return out;
}

/** Listings sent at once by one removal (a sweep over a long quiet spell lists many partitions). */
const LISTINGS_IN_FLIGHT = 8;

/** The partitions (`dt=/hour=`) the side outputs of `records` are under. */
export function partitionsOf(records: readonly RawRecord[]): string[] {
  return [...new Set(records.map((r) => hivePartition(r.approximateArrivalTimestamp)))];
}

/**
 * The side outputs under the shard's `partitions` whose first record is in `first..last` and which no commit
 * of `committed` made (attempts that failed or lost; a skipped batch's, whose records now have outputs under
 * the replay shard): removed. Returns how many.
 */
export async function removeOrphanedOutputs(
  deps: { readonly objects: ObjectStore; readonly pipeline: StatefulPipeline },
  shardId: string,
  first: string,
  last: string,
  partitions: Iterable<string>,
  committed: readonly CommitRange[],
): Promise<number> {
  const { spec } = deps.pipeline;
  const prefixes = [...new Set(partitions)].flatMap((hour) => [
    `${BUCKET_PREFIX.CLEAN}${spec.source.stream}/${hour}/${shardId}-`,
    `${BUCKET_PREFIX.REJECTED}${spec.source.stream}/${hour}/${shardId}-`,
    // A publish-only pipeline (no sink) has no windows, so no late records.
    ...(spec.sink === undefined ? [] : [`${BUCKET_PREFIX.LATE}${spec.sink.table}/${hour}/${shardId}-`]),
  ]);
  // A commit's objects: its range, and for late/ also the close mark it judged by (a segment written before
  // the mark was stored keeps any).
  const isCommitted = (objectFirst: string, objectLast: string, tag: string | undefined): boolean =>
    committed.some(
      (s) =>
        s.firstSequence === objectFirst &&
        s.lastSequence === objectLast &&
        (tag === undefined || s.judgedBy === undefined || lateObjectTag(s.judgedBy) === tag),
    );
  // Names start `<prefix><first>-`: listing after `<prefix><first>` skips every earlier first record.
  const listed = await mapWithConcurrency(prefixes, LISTINGS_IN_FLIGHT, async (prefix) => ({
    prefix,
    keys: await deps.objects.listKeys(prefix, `${prefix}${first}`),
  }));
  const orphans = listed.flatMap(({ prefix, keys }) =>
    keys.filter((key) => {
      // From the dash before the first sequence (shard ids hold dashes and digits too).
      const match = /^-(\d+)-(\d+)(?:-([^/]*))?\.jsonl$/.exec(key.slice(prefix.length - 1));
      if (match === null) return false;
      const [objectFirst, objectLast] = [match[1]!, match[2]!];
      return objectFirst >= first && objectFirst <= last && !isCommitted(objectFirst, objectLast, match[3]);
    }),
  );
  await mapWithConcurrency(orphans, LISTINGS_IN_FLIGHT, (key) => deps.objects.deleteObject(key));
  return orphans.length;
}
