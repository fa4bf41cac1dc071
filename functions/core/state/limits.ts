/**
 * DynamoDB's limits, in DynamoDB's own units, and the sizes shardflow checks against them before every call
 * (DESIGN.md §4): what cannot fit is split or dead-lettered by design, never sent to fail.
 */

/** Largest item DynamoDB stores: 400 KB, attribute names and values included. */
export const MAX_ITEM_BYTES = 400 * 1024;

/** Most actions in one TransactWriteItems call. */
export const MAX_TRANSACTION_ITEMS = 100;

/** Largest total size of the items of one TransactWriteItems call. */
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;

/**
 * Bytes of segment body per chunk item: the rest of the 400 KB is room for the chunk's key and attributes.
 */
export const SEGMENT_CHUNK_BYTES = 350 * 1024;

/**
 * Most chunk items and largest body of one commit's segment. Its chunks are written one put each (not in a
 * transaction: `segmentAttempts.ts`), so DynamoDB sets no bound; this one keeps a commit's state within
 * what a Lambda reads and merges at ease, and within a transaction's size should it ever need one.
 */
export const MAX_SEGMENT_CHUNKS = MAX_TRANSACTION_ITEMS - 2;
export const MAX_SEGMENT_BYTES = Math.min(
  MAX_TRANSACTION_BYTES - 2 * MAX_ITEM_BYTES,
  MAX_SEGMENT_CHUNKS * SEGMENT_CHUNK_BYTES,
);

/** Largest progress item shardflow writes, leaving headroom under the item limit. */
export const MAX_PROGRESS_BYTES = 300 * 1024;

/**
 * Room under {@link MAX_PROGRESS_BYTES} that a commit adding window state leaves for the commits that add
 * none. A shard's progress grows with its pending windows (a lagging shard holds the others' open); once
 * they fill it, a record that would add more is dead-lettered `STATE_LIMIT`, and that dead-letter commit
 * must fit: it adds a `stateLimited` entry (at most 64 of ~90 bytes), an attempt entry and counts.
 */
export const PROGRESS_RESERVE_BYTES = 16 * 1024;

/** Write units of an item of `bytes` (1 KB each, rounded up; at least 1). */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** Read units of a strongly consistent read of `bytes` (4 KB each, rounded up; at least 1). */
export function readUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4096));
}
