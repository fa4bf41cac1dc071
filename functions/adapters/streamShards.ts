/**
 * The source stream's shards as Kinesis `ListShards` describes them: which are open (the tick raises
 * the close mark of those) and which shards each was split or merged from (a shard's dedupe ids are
 * checked against its parents' after a reshard), and a range of one shard's records read back (a batch
 * Lambda skipped is replayed from the stream).
 */
import type { KinesisClient, ListShardsCommandOutput } from '@aws-sdk/client-kinesis';

import type { RawRecord } from '../core/types';
import { padSequence } from '../core/sequence';
import { ShardflowError } from '../core/errors';

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, like the clients of `aws.ts`:
   every operator of a Kinesis pipeline holds this module but lists shards only on a shard's first batch (its
   parents); loading the Kinesis SDK module would cost each cold start 5-20 ms more. */
const kinesisSdk = () => require('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis');
/* eslint-enable @typescript-eslint/no-require-imports */

/** A range of records is no longer in the stream (its retention passed): it cannot be read back. */
export class StreamRangeUnreadableError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StreamRangeUnreadableError';
  }
}

/** One shard of the stream. */
export interface StreamShard {
  readonly id: string;
  /** `ParentShardId` and `AdjacentParentShardId`, when present. */
  readonly parents: readonly string[];
  /** No ending sequence number yet: the shard still takes records. */
  readonly open: boolean;
}

/** The stream name in a name or a stream ARN. */
export function streamName(stream: string): string {
  return stream.startsWith('arn:') ? stream.slice(stream.lastIndexOf('/') + 1) : stream;
}

/** Every shard of `stream` (a name or an ARN), all pages. */
export async function listStreamShards(kinesis: KinesisClient, stream: string): Promise<StreamShard[]> {
  const shards: StreamShard[] = [];
  let token: string | undefined;
  do {
    // By name (the stream is the caller's own, in its account and region): every Kinesis, including
    // emulators that predate StreamARN parameters, takes a name.
    const page: ListShardsCommandOutput = await kinesis.send(
      new (kinesisSdk().ListShardsCommand)(
        token !== undefined ? { NextToken: token } : { StreamName: streamName(stream) },
      ),
    );
    for (const shard of page.Shards ?? []) {
      if (shard.ShardId === undefined) continue;
      shards.push({
        id: shard.ShardId,
        parents: [shard.ParentShardId, shard.AdjacentParentShardId].filter(
          (p): p is string => p !== undefined,
        ),
        open: shard.SequenceNumberRange?.EndingSequenceNumber === undefined,
      });
    }
    token = page.NextToken;
  } while (token !== undefined);
  return shards;
}

/**
 * `shardId`'s parents, from a listing cached per instance and refreshed when it does not know the shard
 * (a child appears after the listing was taken). A shard the stream does not list (a replay shard, a
 * shard trimmed away) has none.
 */
export function shardParentsLookup(
  list: () => Promise<readonly StreamShard[]>,
): (shardId: string) => Promise<readonly string[]> {
  let cached: Map<string, StreamShard> | undefined;
  return async (shardId) => {
    if (cached?.has(shardId) !== true) cached = new Map((await list()).map((s) => [s.id, s]));
    return cached.get(shardId)?.parents ?? [];
  };
}

/** Records asked for per GetRecords call (the API maximum). */
const GET_RECORDS_LIMIT = 10_000;

/**
 * The records of `shardId` from `firstSequence` through `lastSequence`, read back from the stream, in
 * sequence order and shaped as the event source mapping delivers them.
 *
 * @throws Error when the stream no longer holds the first record (its retention has passed): such a range
 *   cannot be read back, whatever is retried.
 */
export async function readShardRange(
  kinesis: KinesisClient,
  stream: string,
  shardId: string,
  firstSequence: string,
  lastSequence: string,
  pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<RawRecord[]> {
  const first = padSequence(firstSequence);
  const last = padSequence(lastSequence);
  let iterator = (
    await kinesis.send(
      new (kinesisSdk().GetShardIteratorCommand)({
        StreamName: streamName(stream),
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: firstSequence,
      }),
    )
  ).ShardIterator;
  const out: RawRecord[] = [];
  while (iterator !== undefined) {
    const page = await kinesis.send(
      new (kinesisSdk().GetRecordsCommand)({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }),
    );
    for (const record of page.Records ?? []) {
      if (record.SequenceNumber === undefined) continue;
      const sequence = padSequence(record.SequenceNumber);
      if (out.length === 0 && sequence !== first)
        throw new StreamRangeUnreadableError(
          `Shard ${shardId} of stream ${streamName(stream)} no longer holds sequence number ${firstSequence} (the first record it returns is ${record.SequenceNumber}): the stream's retention has passed, the range cannot be read back`,
        );
      if (sequence > last) return out;
      out.push({
        shardId,
        sequenceNumber: record.SequenceNumber,
        partitionKey: record.PartitionKey ?? '',
        data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
      });
      if (sequence === last) return out;
    }
    // At the tip of an open shard with nothing more to read: the rest of the range is not in the stream.
    if ((page.Records ?? []).length === 0 && page.MillisBehindLatest === 0) break;
    iterator = page.NextShardIterator;
    // GetRecords allows 5 calls per second per shard.
    if ((page.Records ?? []).length === 0) await pause(200);
  }
  if (out.length === 0)
    throw new StreamRangeUnreadableError(
      `Shard ${shardId} of stream ${streamName(stream)} returned no record at sequence number ${firstSequence}: the stream's retention has passed, the range cannot be read back`,
    );
  return out;
}
