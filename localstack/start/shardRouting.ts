/**
 * Kinesis's routing of a record to a shard: the MD5 of its partition key, read as a 128-bit unsigned
 * number, falls in one shard's hash key range; a stream created with n shards splits the range into n equal
 * parts (the last one ends at 2^128 − 1). The in-memory run uses it to put records on the shards the local
 * stack would, so both judge lateness from the same per-shard order.
 */
import { createHash } from 'node:crypto';
import { InvalidOptionError } from '../../functions/core/errors';

const HASH_SPACE = 2n ** 128n;

/** The Kinesis shard id of the `index`-th shard of a new stream: `shardId-000000000003`. */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

/** Index (0-based) of the shard a record with `partitionKey` goes to on a new stream of `shards` shards. */
export function shardIndexOf(partitionKey: string, shards: number): number {
  if (!Number.isSafeInteger(shards) || shards < 1)
    throw new InvalidOptionError(`A stream has at least one shard (given ${shards})`);
  const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
  const index = Number(hash / (HASH_SPACE / BigInt(shards)));
  return Math.min(index, shards - 1);
}
