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

/** One GetRecords page of a shard, as a {@link readRange} source reads it. */
export interface RangePage<T> {
  /** The page's records with their sequence numbers (records without one are left out). */
  readonly records: readonly { readonly sequence: string; readonly record: T }[];
  readonly next: string | undefined;
  /** At the tip of an open shard with nothing more to read: the rest of the range is not in the stream. */
  readonly atTip: boolean;
}

/**
 * The one range loop of both sources (a Kinesis stream, `readShardRange`; a table's DynamoDB stream,
 * `tableStreamRange.ts`): from the iterator at `firstSequence`, each page's records in sequence order through
 * `lastSequence`, stopping past it, at the end of a closed shard, or at the tip of an open one (what it
 * returns then is short of the range, which the caller's count shows); an empty page waits 200 ms (GetRecords
 * allows 5 calls a second per shard).
 *
 * @throws StreamRangeUnreadableError when the stream no longer holds the first record (its retention has
 *   passed): such a range cannot be read back, whatever is retried.
 */
export async function readRange<T>(range: {
  /** `shard X of stream Y`, for the errors. */
  readonly where: string;
  readonly firstSequence: string;
  readonly lastSequence: string;
  readonly iterator: string | undefined;
  readonly page: (iterator: string) => Promise<RangePage<T>>;
  readonly pause: (ms: number) => Promise<void>;
}): Promise<T[]> {
  const first = padSequence(range.firstSequence);
  const last = padSequence(range.lastSequence);
  const out: T[] = [];
  let iterator = range.iterator;
  while (iterator !== undefined) {
    const page = await range.page(iterator);
    for (const { sequence: raw, record } of page.records) {
      const sequence = padSequence(raw);
      if (out.length === 0 && sequence !== first)
        throw new StreamRangeUnreadableError(
          `${range.where} no longer holds sequence number ${range.firstSequence} (the first record it returns is ${raw}): the stream's retention has passed, the range cannot be read back`,
        );
      if (sequence > last) return out;
      out.push(record);
      if (sequence === last) return out;
    }
    if (page.records.length === 0 && page.atTip) break;
    iterator = page.next;
    if (page.records.length === 0 && iterator !== undefined) await range.pause(200);
  }
  if (out.length === 0)
    throw new StreamRangeUnreadableError(
      `${range.where} returned no record at sequence number ${range.firstSequence}: the stream's retention has passed, the range cannot be read back`,
    );
  return out;
}

/**
 * The records of `shardId` from `firstSequence` through `lastSequence`, read back from the stream, in
 * sequence order and shaped as the event source mapping delivers them ({@link readRange}).
 *
 * @throws StreamRangeUnreadableError when the stream no longer holds the first record.
 */
export async function readShardRange(
  kinesis: KinesisClient,
  stream: string,
  shardId: string,
  firstSequence: string,
  lastSequence: string,
  pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<RawRecord[]> {
  const iterator = (
    await kinesis.send(
      new (kinesisSdk().GetShardIteratorCommand)({
        StreamName: streamName(stream),
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: firstSequence,
      }),
    )
  ).ShardIterator;
  return readRange({
    where: `Shard ${shardId} of stream ${streamName(stream)}`,
    firstSequence,
    lastSequence,
    iterator,
    pause,
    page: async (at) => {
      const page = await kinesis.send(
        new (kinesisSdk().GetRecordsCommand)({ ShardIterator: at, Limit: GET_RECORDS_LIMIT }),
      );
      const records = (page.Records ?? []).flatMap((record) =>
        record.SequenceNumber === undefined
          ? []
          : [
              {
                sequence: record.SequenceNumber,
                record: {
                  shardId,
                  sequenceNumber: record.SequenceNumber,
                  partitionKey: record.PartitionKey ?? '',
                  data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
                  approximateArrivalTimestamp: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
                },
              },
            ],
      );
      return { records, next: page.NextShardIterator, atTip: page.MillisBehindLatest === 0 };
    },
  });
}
