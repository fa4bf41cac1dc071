/**
 * A range of one shard of a table's DynamoDB stream read back (a batch Lambda skipped is replayed from the
 * stream, `replayFailedBatches.ts`): GetShardIterator AT_SEQUENCE_NUMBER the first record, GetRecords until
 * the last, through the client factory's `dynamoDbStreams` client. The records come back exactly as Lambda's
 * DynamoDB-stream event carries them (`dynamoDBStreamRecord.ts`), and are decoded by the same codec as the
 * operator's (`dynamoDBStreamEventCodec.ts`), in an event that names the shard, as a tumbling window's does:
 * the on-failure record names it, so no DescribeStream is needed.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type GetRecordsCommandOutput,
} from '@aws-sdk/client-dynamodb-streams';
import { tableStreamSequence } from '../core/sequence';
import type { StreamViewType } from '../core/tableChange';
import type { RawRecord } from '../core/types';
import { decodeDynamoDBStreamEvent } from './dynamoDBStreamEventCodec';
import { eventRecord, lambdaJson, lambdaRecord } from './dynamoDBStreamRecord';
import { readRange, StreamRangeUnreadableError } from './streamShards';
import type { TableShardResolver } from './tableStreamShards';

/** GetRecords' largest `Limit` on a DynamoDB stream. */
const GET_RECORDS_LIMIT = 1_000;

/**
 * Empty pages in a row after which the rest of the range is taken as not in the stream. A DynamoDB stream
 * reports no `MillisBehindLatest` (the Kinesis reader's sign of the tip), and may return an empty page for a
 * portion of a shard without records before later pages that have some (DynamoDB Streams API reference,
 * GetRecords): a few in a row are read past, many mean the tip of an open shard.
 */
export const MAX_EMPTY_PAGES = 10;

/** GetShardIterator's errors for a position the stream no longer holds (trimmed, or the stream gone). */
const GONE = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException']);

/** One record of a DynamoDB-stream event, as Lambda delivers it (`eventSourceARN` included). */
export type LambdaStreamRecord = Record<string, unknown>;

/**
 * The records of `shardId` of the table stream `streamArn` from `firstSequence` through `lastSequence`, in
 * sequence order, each as Lambda's DynamoDB-stream event carries it. Stops at the first record past
 * `lastSequence`, at the end of a closed shard, or after {@link MAX_EMPTY_PAGES} empty pages in a row (the tip
 * of an open shard): what it returns then is short of the range, which the caller's count shows.
 *
 * @throws StreamRangeUnreadableError when the stream no longer holds the first record (its retention of 24
 *   hours has passed, or the table's stream was replaced): such a range cannot be read back, whatever is retried.
 */
export async function readTableShardRange(
  client: DynamoDBStreamsClient,
  streamArn: string,
  shardId: string,
  firstSequence: string,
  lastSequence: string,
  pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<LambdaStreamRecord[]> {
  let iterator: string | undefined;
  try {
    iterator = (
      await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: tableStreamSequence(firstSequence),
        }),
      )
    ).ShardIterator;
  } catch (error) {
    if (!(error instanceof Error) || !GONE.has(error.name)) throw error;
    throw new StreamRangeUnreadableError(
      `Shard ${shardId} of stream ${streamArn} no longer holds sequence number ${firstSequence} (${error.name}): the stream's retention (24 hours) has passed or the table's stream was replaced, the range cannot be read back`,
      { cause: error },
    );
  }
  let emptyPages = 0;
  return readRange({
    where: `Shard ${shardId} of stream ${streamArn}`,
    firstSequence,
    lastSequence,
    iterator,
    pause,
    page: async (at) => {
      const page: GetRecordsCommandOutput = await client.send(
        new GetRecordsCommand({ ShardIterator: at, Limit: GET_RECORDS_LIMIT }),
      );
      const records = (page.Records ?? []).flatMap((record) => {
        const sequence = record.dynamodb?.SequenceNumber;
        return sequence === undefined
          ? []
          : [
              {
                sequence,
                record: eventRecord(lambdaJson(lambdaRecord(record)), streamArn),
              },
            ];
      });
      emptyPages = records.length === 0 ? emptyPages + 1 : 0;
      return { records, next: page.NextShardIterator, atTip: emptyPages >= MAX_EMPTY_PAGES };
    },
  });
}

/** The resolver of an event that names its shard: the codec only notes the name, and never looks one up. */
const NAMED_SHARD: Pick<TableShardResolver, 'shardOf' | 'named'> = {
  named: () => undefined,
  shardOf: () => Promise.reject(new Error('The replayed event names its shard: no lookup is made')),
};

/**
 * `records` of shard `shardId` (read by {@link readTableShardRange}) as the engine's `RawRecord`s of that
 * shard, decoded as the operator decodes Lambda's event for a stream of `view` (a record that cannot be a
 * change of the view carries its rejection, and goes to `rejected/` as it would have).
 */
export function decodeTableShardRange(
  records: readonly LambdaStreamRecord[],
  streamArn: string,
  shardId: string,
  view: StreamViewType,
): Promise<RawRecord[]> {
  return decodeDynamoDBStreamEvent(
    { Records: records, shardId, eventSourceARN: streamArn },
    view,
    NAMED_SHARD,
  );
}
