/**
 * What a shard's commit log says about a range of its sequence numbers, and the removal of side outputs no
 * commit made there. Once the shard's position is past a record, no commit can start at it any more, so an
 * object whose first record is in such a range and whose range is no commit's is an orphan for good (an
 * attempt that wrote it and failed), whoever finds it.
 */
import { BUCKET_PREFIX } from '../constants';
import type { RawRecord } from '../types';
import { SegmentExpiredError } from './errors';
import { hivePartition } from './paths';
import type { ObjectStore, Segment, ShardProgress, StatefulPipeline, StateStore } from './types';

/**
 * The commits of the shard whose ranges meet `first..last`: found by bisection over commit numbers (each
 * segment's first sequence grows with its number), then walking back while the ranges still meet.
 */
export async function committedRanges(
  store: StateStore,
  pipeline: string,
  progress: ShardProgress,
  first: string,
  last: string,
): Promise<Segment[]> {
  const segmentOf = async (commit: number): Promise<Segment | undefined> =>
    (await store.readSegments(pipeline, progress.shardId, commit, commit))[0];
  // The latest commit whose first record is at or before `last`.
  let low = 1;
  let high = progress.commits;
  let found: number | undefined;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const segment = await segmentOf(middle);
    if (segment === undefined) {
      // Expired (older than the retention): the log cannot answer for ranges that old.
      throw new SegmentExpiredError(
        `Commit ${middle} of shard ${progress.shardId} has expired: the skipped range is older than the state's retention and cannot be replayed exactly`,
      );
    }
    if (segment.firstSequence <= last) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  const out: Segment[] = [];
  for (let commit = found ?? 0; commit >= 1; commit--) {
    const segment = await segmentOf(commit);
    if (segment === undefined || segment.lastSequence < first) break;
    out.push(segment);
  }
  return out;
}

/**
 * The side outputs the skipped attempts wrote under the original shard (objects whose first record is in
 * the range and which no commit made): their records now have outputs under the replay shard.
 */
export async function removeOrphanedOutputs(
  deps: { readonly objects: ObjectStore; readonly pipeline: StatefulPipeline },
  shardId: string,
  first: string,
  last: string,
  records: readonly RawRecord[],
  committed: readonly Segment[],
): Promise<number> {
  const { spec } = deps.pipeline;
  const hours = new Set(records.map((r) => hivePartition(r.approximateArrivalTimestamp)));
  const prefixes = [...hours].flatMap((hour) => [
    `${BUCKET_PREFIX.CLEAN}${spec.source.stream}/${hour}/${shardId}-`,
    `${BUCKET_PREFIX.REJECTED}${spec.source.stream}/${hour}/${shardId}-`,
    `${BUCKET_PREFIX.LATE}${spec.sink.table}/${hour}/${shardId}-`,
  ]);
  let removed = 0;
  for (const prefix of prefixes) {
    for (const key of await deps.objects.listKeys(prefix)) {
      const match = /-(\d+)-(\d+)(?:-[^/]*)?\.jsonl$/.exec(key.slice(prefix.length - 1));
      if (match === null) continue;
      const [objectFirst, objectLast] = [match[1]!, match[2]!];
      if (objectFirst < first || objectFirst > last) continue;
      if (committed.some((s) => s.firstSequence === objectFirst && s.lastSequence === objectLast)) continue;
      await deps.objects.deleteObject(key);
      removed += 1;
    }
  }
  return removed;
}
