/**
 * The chunk items of a commit's segment (`segmentAttempts.ts` says which attempt is the committed one): a
 * segment's body is cut into `SEGMENT_CHUNK_BYTES` pieces under `<commit>#<attempt>#<chunk>`, each carrying
 * the commit's range; readers reassemble the committed attempt, or read only its range (the commit log).
 * Attribute codec and hostile-item checks: `stateItems.ts`.
 */
import { StateItemInvalidError } from './errors';
import { parseSegmentSortKey, segmentPartitionKey, segmentSortKey } from './keys';
import { SEGMENT_CHUNK_BYTES } from './limits';
import {
  bytes,
  fingerprintOf,
  n,
  nOrNull,
  num,
  numOrNull,
  PK,
  s,
  SK,
  str,
  TTL,
  type StateItem,
} from './stateItems';
import type { CommitRange, Segment } from './types';

/** The chunk items of a segment: its body cut into `SEGMENT_CHUNK_BYTES` pieces, in order. */
export function segmentToItems(segment: Segment): StateItem[] {
  const chunks = Math.max(1, Math.ceil(segment.body.byteLength / SEGMENT_CHUNK_BYTES));
  return Array.from({ length: chunks }, (_, chunk) => ({
    [PK]: s(segmentPartitionKey(segment.pipeline, segment.shardId)),
    [SK]: s(segmentSortKey(segment.commit, segment.attempt, chunk)),
    chunks: n(chunks),
    firstSequence: s(segment.firstSequence),
    lastSequence: s(segment.lastSequence),
    ...(segment.judgedBy !== undefined ? { outJudged: nOrNull(segment.judgedBy) } : {}),
    // On the first chunk only: readers take a segment's attributes from it.
    ...(segment.shape !== undefined && chunk === 0 ? { fp: s(segment.shape) } : {}),
    body: { B: segment.body.subarray(chunk * SEGMENT_CHUNK_BYTES, (chunk + 1) * SEGMENT_CHUNK_BYTES) },
    [TTL]: n(segment.ttl),
  }));
}

/**
 * Reassembles the committed segments from chunk items (in sort-key order, as a range query returns them):
 * of each commit, only the attempt `attemptOf` names (`segmentAttempts.ts`); the chunks of other attempts
 * (left behind by a crash or a racing copy, possibly incomplete) are skipped, and a commit `attemptOf` does
 * not know (undefined) is left out. A named attempt whose chunks are not all present is an error: the
 * commit was written after all of them.
 */
/** The attributes of a segment chunk item {@link commitRangesFromItems} reads. */
export const COMMIT_RANGE_ATTRIBUTES = [SK, 'firstSequence', 'lastSequence', 'outJudged'] as const;

/**
 * The ranges of the committed segments among chunk items (only {@link COMMIT_RANGE_ATTRIBUTES} needed): of each
 * commit, the first chunk of the attempt `attemptOf` names, as {@link segmentsFromItems} picks them.
 */
export function commitRangesFromItems(
  items: readonly StateItem[],
  attemptOf: (commit: number) => number | undefined,
): CommitRange[] {
  const ranges: CommitRange[] = [];
  for (const item of items) {
    const key = parseSegmentSortKey(str(item, SK));
    if (key === undefined)
      throw new StateItemInvalidError(`Segment item has an unexpected sort key ${str(item, SK)}`);
    if (key.chunk !== 0 || key.attempt !== attemptOf(key.commit)) continue;
    ranges.push({
      commit: key.commit,
      firstSequence: str(item, 'firstSequence'),
      lastSequence: str(item, 'lastSequence'),
      ...(item.outJudged !== undefined ? { judgedBy: numOrNull(item, 'outJudged') ?? -Infinity } : {}),
    });
  }
  return ranges;
}

export function segmentsFromItems(
  pipeline: string,
  shardId: string,
  items: readonly StateItem[],
  attemptOf: (commit: number) => number | undefined,
): Segment[] {
  const segments: Segment[] = [];
  let parts: Uint8Array[] = [];
  let expected = 0;
  let head: StateItem | undefined;
  let commit = 0;
  let attempt = 0;
  for (const item of items) {
    const key = parseSegmentSortKey(str(item, SK));
    if (key === undefined)
      throw new StateItemInvalidError(`Segment item has an unexpected sort key ${str(item, SK)}`);
    if (key.attempt !== attemptOf(key.commit)) continue;
    if (key.chunk === 0) {
      if (head !== undefined)
        throw new StateItemInvalidError(`Segment ${commit} of ${shardId} is missing chunks`);
      head = item;
      commit = key.commit;
      attempt = key.attempt;
      expected = num(item, 'chunks');
      parts = [];
    } else if (head === undefined || key.commit !== commit || key.chunk !== parts.length) {
      throw new StateItemInvalidError(
        `Segment chunk ${key.commit}#${key.attempt}#${key.chunk} of ${shardId} is out of order`,
      );
    }
    parts.push(bytes(item, 'body'));
    if (parts.length === expected) {
      segments.push({
        pipeline,
        shardId,
        commit,
        attempt,
        firstSequence: str(head, 'firstSequence'),
        lastSequence: str(head, 'lastSequence'),
        body: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
        ttl: num(head, TTL),
        ...(head.outJudged !== undefined ? { judgedBy: numOrNull(head, 'outJudged') ?? -Infinity } : {}),
        ...fingerprintOf(head),
      });
      head = undefined;
    }
  }
  if (head !== undefined)
    throw new StateItemInvalidError(`Segment ${commit} of ${shardId} is missing chunks`);
  return segments;
}
