/**
 * Key layout of the state table (one table for progress items and commit segments), zero padding of
 * sequence numbers and commit numbers so that string order equals numeric order, and the stored form of
 * dedupe ids. No user data ever appears in a key: record keys live inside segment bodies only.
 */
import * as nodeCrypto from 'node:crypto';
import { SEQUENCE_NUMBER_WIDTH } from '../constants';
import type { EpochMillis, WindowBounds } from '../types';
import { InvalidOptionError } from '../errors';

/**
 * Type prefixes of partition keys: every partition key starts with the prefix of its item type, so the
 * key spaces of item types are disjoint by construction.
 */
export const KEY_TYPE = { PROGRESS: 'P#', SEGMENT: 'C#' } as const;

/** Sort key of the pipeline item in the progress partition (shard items start with `S#`). */
export const PIPELINE_SORT_KEY = '#pipeline';

/** Sort-key prefix of the state shapes registered in the progress partition: `#shape#<fingerprint>`. */
export const SHAPE_SORT_KEY_PREFIX = '#shape#';

/** Width of zero-padded commit numbers, attempt numbers and chunk indexes in segment sort keys. */
const COMMIT_WIDTH = 12;
const ATTEMPT_WIDTH = 4;
const CHUNK_WIDTH = 4;

/** Most attempts at writing one commit's segment (see `segmentAttempts.ts`). */
export const MAX_SEGMENT_ATTEMPT = 10 ** ATTEMPT_WIDTH - 1;

/** Zero-padded sequence number that is below every real one. */
export const NO_SEQUENCE = '0'.repeat(SEQUENCE_NUMBER_WIDTH);

/** Partition key of a pipeline's progress items (shards and the pipeline item): `P#<pipeline>`. */
export function progressPartitionKey(pipeline: string): string {
  return `${KEY_TYPE.PROGRESS}${pipeline}`;
}

/** Sort key of a shard's progress item: `S#<shardId>`. */
export function shardSortKey(shardId: string): string {
  return `S#${shardId}`;
}

/** Partition key of a shard's commit segments: `C#<pipeline>#<shardId>`. */
export function segmentPartitionKey(pipeline: string, shardId: string): string {
  return `${KEY_TYPE.SEGMENT}${pipeline}#${shardId}`;
}

/** Sort key of one chunk of one attempt at a commit's segment: `<commit>#<attempt>#<chunk>`, zero padded. */
export function segmentSortKey(commit: number, attempt: number, chunk: number): string {
  if (
    !Number.isSafeInteger(commit) ||
    commit < 1 ||
    !Number.isSafeInteger(attempt) ||
    attempt < 0 ||
    attempt > MAX_SEGMENT_ATTEMPT ||
    !Number.isSafeInteger(chunk) ||
    chunk < 0
  ) {
    throw new InvalidOptionError(
      `Commit must be a positive integer, attempt an integer in 0..${MAX_SEGMENT_ATTEMPT} and chunk a non-negative integer (given ${commit}, ${attempt}, ${chunk})`,
    );
  }
  return `${String(commit).padStart(COMMIT_WIDTH, '0')}#${String(attempt).padStart(ATTEMPT_WIDTH, '0')}#${String(chunk).padStart(CHUNK_WIDTH, '0')}`;
}

/** The commit, attempt and chunk of a segment sort key; undefined when it is not one. */
export function parseSegmentSortKey(
  sortKey: string,
): { commit: number; attempt: number; chunk: number } | undefined {
  const match = /^(\d{12})#(\d{4})#(\d{4})$/.exec(sortKey);
  return match === null
    ? undefined
    : { commit: Number(match[1]), attempt: Number(match[2]), chunk: Number(match[3]) };
}

/** Lowest and highest sort keys of every attempt's chunks of commits `from..to`, for a range query. */
export function segmentSortKeyRange(
  from: number,
  to: number,
): { readonly low: string; readonly high: string } {
  return {
    low: segmentSortKey(from, 0, 0),
    high: segmentSortKey(to, MAX_SEGMENT_ATTEMPT, 10 ** CHUNK_WIDTH - 1),
  };
}

/** Stable identity of a window inside a pipeline, for maps and result object names: `<start>-<end>`. */
export function windowId(window: WindowBounds): string {
  return `${window.start}-${window.end}`;
}

/** TTL (epoch seconds) of a segment: retained for `retentionMs` after `after` (its newest window's close, or its commit if later). */
export function segmentTtl(after: EpochMillis, retentionMs: number): number {
  return Math.ceil((after + retentionMs) / 1000);
}

/** Bytes of a stored dedupe id hash (64 bits). */
export const DEDUPE_HASH_BYTES = 8;

// Bound once (CommonJS interop makes each use of a named import a getter call). Node's one-shot `crypto.hash`
// (Node ≥ 20.12, hence `engines`) skips the Hash object and the digest Buffer of `createHash`: ~0.3 µs instead
// of ~1.3 µs for an event id, which a batch hashes once or twice per record.
const oneShotHash = nodeCrypto.hash;

/**
 * The stored form of a dedupe id: 64 bits of its SHA-256, so a segment holds 8 bytes per applied event
 * whatever the id's length (a false duplicate needs a 64-bit collision: ~1e-13 against 1,000,000 ids). In
 * memory the 8 bytes are an 8-character Latin-1 string: V8 copies a slice this short (a longer one would be a
 * sliced string keeping its 32-character digest alive, and a warm instance keeps up to 1,000,000 of these).
 */
export function dedupeHash(id: string): string {
  // 'binary' is Node's name for Latin-1: one character per byte of the digest.
  return oneShotHash('sha256', id, 'binary').slice(0, DEDUPE_HASH_BYTES);
}

/** A set of stored dedupe hashes that answers `has` for raw ids, as the engine's `combine` asks. */
export class SeenIdSet extends Set<string> {
  public override has(id: string): boolean {
    return super.has(dedupeHash(id));
  }
}
