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

/**
 * Left-pads a Kinesis sequence number with zeros to `SEQUENCE_NUMBER_WIDTH` digits (the engine's
 * `padSequence`, re-exported so the state layer has one name for it).
 */
export { padSequence as padSequenceNumber } from '../sequence';

/** Zero-padded sequence number that is below every real one. */
export const NO_SEQUENCE = '0'.repeat(SEQUENCE_NUMBER_WIDTH);

/** Pads non-negative integer epoch milliseconds to `MILLIS_WIDTH` digits. */
export function padMillis(millis: EpochMillis): string {
  if (!Number.isSafeInteger(millis) || millis < 0) {
    throw new RangeError(`Window bounds must be non-negative integer epoch milliseconds (given ${millis})`);
  }
  return String(millis).padStart(MILLIS_WIDTH, '0');
}

/** Partition key of a window item: `<pipeline>#<key>`. */
export function windowPartitionKey(pipeline: string, key: string): string {
  return `${pipeline}#${key}`;
}

/** Sort key of a window item: `<start>#<end>`, zero padded so string order is time order. */
export function windowSortKey(window: WindowBounds): string {
  return `${padMillis(window.start)}#${padMillis(window.end)}`;
}

/** Partition key shared by the shard progress items and the pipeline progress item. */
export function progressPartitionKey(pipeline: string): string {
  return `${pipeline}#shards`;
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
