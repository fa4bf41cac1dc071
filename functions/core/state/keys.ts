/**
 * Key layout of the state table (one table for window items and shard progress), zero padding of
 * sequence numbers and times so that string order equals numeric order, and deterministic emission ids.
 */
import { createHash } from 'node:crypto';
import { SEQUENCE_NUMBER_WIDTH } from '../constants';
import type { EpochMillis, WindowBounds } from '../types';

/** Width of zero-padded epoch milliseconds in sort keys (covers year 2286 and beyond). */
export const MILLIS_WIDTH = 16;

/** Sort key of the pipeline progress item; `#` never starts a Kinesis shard id. */
export const PIPELINE_PROGRESS_SORT_KEY = '#pipeline';

const DECIMAL = /^\d+$/;

/**
 * Left-pads a Kinesis sequence number with zeros to `SEQUENCE_NUMBER_WIDTH` digits so that string order
 * (as DynamoDB compares) equals numeric order. Same result as the engine's `padSequence`; kept here so the
 * state layer does not depend on engine internals.
 *
 * @example padSequenceNumber('42') // '000…00042' (SEQUENCE_NUMBER_WIDTH characters)
 */
export function padSequenceNumber(sequenceNumber: string): string {
  const digits = typeof sequenceNumber === 'string' && DECIMAL.test(sequenceNumber) ? sequenceNumber.replace(/^0+(?=\d)/, '') : undefined;
  if (digits === undefined || digits.length > SEQUENCE_NUMBER_WIDTH) {
    throw new RangeError(`Sequence number must be a decimal string of at most ${SEQUENCE_NUMBER_WIDTH} digits (given ${JSON.stringify(String(sequenceNumber).slice(0, 80))})`);
  }
  return digits.padStart(SEQUENCE_NUMBER_WIDTH, '0');
}

/** Zero-padded sequence number that is below every real one. */
export const NO_SEQUENCE = '0'.repeat(SEQUENCE_NUMBER_WIDTH);

/** Pads non-negative integer epoch milliseconds to `MILLIS_WIDTH` digits. */
export function padMillis(millis: EpochMillis): string {
  if (!Number.isSafeInteger(millis) || millis < 0) {
    throw new RangeError(`Window bounds must be non-negative integer epoch milliseconds (given ${millis})`);
  }
  return String(millis).padStart(MILLIS_WIDTH, '0');
}

/**
 * Type prefixes of partition keys: every partition key starts with the prefix of its item type, so no
 * key value a producer sends can name an internal item (progress, markers): the key spaces are disjoint
 * by construction, whatever the key (`shards`, `#`, `#pipeline`, unicode, maximal length).
 */
export const KEY_TYPE = { WINDOW: 'W#', PROGRESS: 'P#' } as const;

/** Partition key of a window item: `W#<pipeline>#<key>`. */
export function windowPartitionKey(pipeline: string, key: string): string {
  return `${KEY_TYPE.WINDOW}${pipeline}#${key}`;
}

/** Sort key of a window item: `<start>#<end>`, zero padded so string order is time order. */
export function windowSortKey(window: WindowBounds): string {
  return `${padMillis(window.start)}#${padMillis(window.end)}`;
}

/** Partition key shared by the shard progress items and the pipeline progress item: `P#<pipeline>`. */
export function progressPartitionKey(pipeline: string): string {
  return `${KEY_TYPE.PROGRESS}${pipeline}`;
}

/** Stable identity of a (key, window) inside a pipeline, for maps and caches. */
export function windowId(pipeline: string, key: string, window: WindowBounds): string {
  return `${windowPartitionKey(pipeline, key)}\u0000${windowSortKey(window)}`;
}

/**
 * Deterministic emission id of a window: the same (pipeline, key, window) always gives the same id, so a
 * retried emission overwrites the same object. 32 hex characters of SHA-256 over a length-prefixed encoding.
 */
export function emissionId(pipeline: string, key: string, window: WindowBounds): string {
  const hash = createHash('sha256');
  for (const part of [pipeline, key, String(window.start), String(window.end)]) {
    hash.update(`${Buffer.byteLength(part)}:${part};`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** TTL (epoch seconds) of a window item: retained for `retentionMs` after the window may close. */
export function windowTtl(closeAt: EpochMillis, retentionMs: number): number {
  return Math.ceil((closeAt + retentionMs) / 1000);
}

/** Hex length of a stored dedupe id hash (64 bits). */
export const DEDUPE_HASH_HEX = 16;

/**
 * The stored form of a dedupe id: 64 bits of its SHA-256, so a window item holds 8 bytes per seen event
 * whatever the id's length (a false duplicate needs a 64-bit collision: ~1e-12 for 10,000 ids).
 */
export function dedupeHash(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, DEDUPE_HASH_HEX);
}

/** A set of stored dedupe hashes that answers `has` for raw ids, as the engine's `combine` asks. */
export class SeenIdSet extends Set<string> {
  public override has(id: string): boolean {
    return super.has(dedupeHash(id));
  }
}
