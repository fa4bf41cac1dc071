/**
 * `replayFailedBatches` against on-failure records that do not match the stream: a mapping with filter
 * criteria (the stream holds records between the two ends that the function never saw), and records that
 * contradict themselves. Such a batch is not replayed and its record stays counted.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient, _Record } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { replayFailedBatches } from '../../../functions/adapters/replayFailedBatches';
import { pageActivity } from '../../../functions/pipelines';
import type { StatefulPipeline } from '../../../functions/core/state/types';
import type { RawRecord } from '../../../functions/core/types';
import { orderInsert, TABLE_STREAM_ARN, tableSequence } from '../../helpers/dynamoStreamRecords';
import { orderRevenue } from '../../helpers/orderRevenue';
import { clickEvent, kinesisSequence } from '../../helpers/records';

const SHARD = 'shardId-000000000000';
const STREAM = pageActivity.spec.source.stream;
const PREFIX = 'aws/lambda/6f1a0d52-5c1e-4a8e-9f0e-1d2c3b4a5f60/';
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);

/** Records 0..29 of the shard. */
const stream: RawRecord[] = Array.from({ length: 30 }, (_, i) => ({
  shardId: SHARD,
  sequenceNumber: kinesisSequence(i),
  partitionKey: `u${i}`,
  data: Buffer.from(JSON.stringify(clickEvent(i, T0 + i * 100))).toString('base64'),
  approximateArrivalTimestamp: T0 + i * 100,
}));

/** Fakes: S3 holds `objects` (list, get, copy, delete); Kinesis serves `stream` from a sequence number. */
function fakes(objects: Map<string, string>) {
  type Command = { constructor: { name: string }; input: Record<string, string> };
  const s3 = {
    send: async ({ constructor, input }: Command) => {
      switch (constructor.name) {
        case 'ListObjectsV2Command':
          return {
            Contents: [...objects.keys()]
              .filter((k) => k.startsWith(input.Prefix ?? ''))
              .map((Key) => ({ Key })),
          };
        case 'GetObjectCommand':
          return { Body: { transformToString: async () => objects.get(input.Key!) ?? '' } };
        case 'CopyObjectCommand': {
          const source = decodeURIComponent(input.CopySource!.split('/').slice(1).join('/'));
          objects.set(input.Key!, objects.get(source) ?? '');
          return {};
        }
        case 'DeleteObjectCommand':
          objects.delete(input.Key!);
          return {};
        default:
          throw new Error(`unexpected S3 ${constructor.name}`);
      }
    },
  } as unknown as S3Client;
  const kinesis = {
    send: async ({ constructor, input }: Command) => {
      if (constructor.name === 'GetShardIteratorCommand')
        return {
          ShardIterator: String(stream.findIndex((r) => r.sequenceNumber === input.StartingSequenceNumber)),
        };
      return {
        Records: stream.slice(Number(input.ShardIterator)).map((r) => ({
          SequenceNumber: r.sequenceNumber,
          PartitionKey: r.partitionKey,
          Data: Buffer.from(r.data, 'base64'),
          ApproximateArrivalTimestamp: new Date(r.approximateArrivalTimestamp),
        })),
        MillisBehindLatest: 0,
        NextShardIterator: String(stream.length),
      };
    },
  } as unknown as KinesisClient;
  const dynamoDb = {
    send: async () => {
      throw new Error('no DynamoDB call expected');
    },
  } as unknown as DynamoDBClient;
  return { s3, kinesis, dynamoDb };
}

const failureRecord = (first: number, last: number, batchSize: number): string =>
  JSON.stringify({
    KinesisBatchInfo: {
      shardId: SHARD,
      startSequenceNumber: kinesisSequence(first),
      endSequenceNumber: kinesisSequence(last),
      batchSize,
      streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`,
    },
  });

async function replay(body: string, dryRun: boolean) {
  const key = `${PREFIX}${SHARD}/2026/01/02/2026-01-02T03.00.00-x`;
  const objects = new Map([[key, body]]);
  const { s3, kinesis, dynamoDb } = fakes(objects);
  const { outcomes, unreadable } = await replayFailedBatches(
    [{ pipeline: pageActivity, stream: STREAM, failurePrefix: PREFIX }],
    { s3, kinesis, dynamoDb, bucket: 'b', stateTable: 't', dryRun },
  );
  return { outcomes, unreadable, stillCounted: objects.has(key) };
}

describe('replayFailedBatches: records that do not match the stream', () => {
  it('when the record matches the stream, a dry run reads its records and reports no error (the control)', async () => {
    const { outcomes, unreadable, stillCounted } = await replay(failureRecord(10, 19, 10), true);
    expect(unreadable).toEqual([]);
    expect(outcomes).toEqual([expect.objectContaining({ recordsRead: 10 })]);
    expect(outcomes[0]!.error).toBeUndefined();
    expect(stillCounted).toBe(true);
  });

  it.each([true, false])(
    'when the stream holds more records between the ends than the batch had (filter criteria), it is not replayed and the record stays (dry run %s)',
    async (dryRun) => {
      const { outcomes, stillCounted } = await replay(failureRecord(10, 19, 9), dryRun);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]!.replay).toBeUndefined();
      expect(outcomes[0]!.movedTo).toBeUndefined();
      expect(outcomes[0]!.error).toBe(
        "the stream holds 10 records from its first to its last sequence number, but Lambda's record says the batch had 9 (a mapping with filter criteria, or a record that does not match the stream): not replayed, the record stays where it is",
      );
      expect(stillCounted).toBe(true);
    },
  );

  it('when the record claims more records than its range holds, it is not replayed and the record stays', async () => {
    const { outcomes, stillCounted } = await replay(failureRecord(11, 11, 10), false);
    expect(outcomes.map((o) => [o.recordsRead, o.movedTo, o.error?.slice(0, 21)])).toEqual([
      [1, undefined, 'the stream holds 1 re'],
    ]);
    expect(stillCounted).toBe(true);
  });

  it('when its end precedes its start, the record is listed as unreadable and stays', async () => {
    const { outcomes, unreadable, stillCounted } = await replay(failureRecord(20, 11, 10), false);
    expect(outcomes).toEqual([]);
    expect(unreadable.map((u) => u.reason)).toEqual([
      'its endSequenceNumber precedes its startSequenceNumber',
    ]);
    expect(stillCounted).toBe(true);
  });
});

/** Changes 0..29 of one shard of the `orders` table's stream (DynamoDB-stream sequence numbers). */
const TABLE_SHARD = 'shardId-00000001767225600000-1a2b3c4d';
const changes: _Record[] = Array.from({ length: 30 }, (_, i) => orderInsert(i, new Date(T0 + i * 1000)));

/** A DynamoDB Streams client serving `changes` from a sequence number, to the end of the (closed) shard. */
function tableStream(): { client: DynamoDBStreamsClient; shards: string[] } {
  const shards: string[] = [];
  const client = {
    send: async ({
      constructor,
      input,
    }: {
      constructor: { name: string };
      input: Record<string, string>;
    }) => {
      if (constructor.name === 'GetShardIteratorCommand') {
        shards.push(`${input.StreamArn} ${input.ShardId}`);
        return {
          ShardIterator: String(
            changes.findIndex((c) => c.dynamodb?.SequenceNumber === input.SequenceNumber),
          ),
        };
      }
      if (constructor.name === 'GetRecordsCommand')
        return { Records: changes.slice(Number(input.ShardIterator)) };
      throw new Error(`unexpected DynamoDB Streams ${constructor.name}`);
    },
  } as unknown as DynamoDBStreamsClient;
  return { client, shards };
}

const tableFailureRecord = (first: number, last: number, batchSize: number, streamArn = TABLE_STREAM_ARN) =>
  JSON.stringify({
    DDBStreamBatchInfo: {
      shardId: TABLE_SHARD,
      startSequenceNumber: tableSequence(first),
      endSequenceNumber: tableSequence(last),
      batchSize,
      streamArn,
    },
  });

async function replayTable(body: string, stream = TABLE_STREAM_ARN) {
  const key = `${PREFIX}${TABLE_SHARD}/2026/01/02/2026-01-02T03.00.00-x`;
  const objects = new Map([[key, body]]);
  const { s3, kinesis, dynamoDb } = fakes(objects);
  const { client, shards } = tableStream();
  const { outcomes, unreadable } = await replayFailedBatches(
    [{ pipeline: orderRevenue() as unknown as StatefulPipeline, stream, failurePrefix: PREFIX }],
    { s3, kinesis, dynamoDb, dynamoDbStreams: client, bucket: 'b', stateTable: 't', dryRun: true },
  );
  return { outcomes, unreadable, shards, stillCounted: objects.has(key) };
}

describe('replayFailedBatches: a table source (its DynamoDB stream)', () => {
  it("when the record matches the table's stream, a dry run reads the range from the shard it names and reports no error", async () => {
    const { outcomes, unreadable, shards, stillCounted } = await replayTable(tableFailureRecord(10, 19, 10));
    expect(unreadable).toEqual([]);
    expect(outcomes).toEqual([expect.objectContaining({ recordsRead: 10 })]);
    expect(outcomes[0]!.error).toBeUndefined();
    expect(outcomes[0]!.batch).toMatchObject({ source: 'table', stream: TABLE_STREAM_ARN });
    expect(shards).toEqual([`${TABLE_STREAM_ARN} ${TABLE_SHARD}`]);
    expect(stillCounted).toBe(true);
  });

  it('when the stream holds more records between the ends than the batch had (filter criteria), it is not replayed and the record stays', async () => {
    const { outcomes, stillCounted } = await replayTable(tableFailureRecord(10, 19, 8));
    expect(outcomes.map((o) => [o.recordsRead, o.replay, o.movedTo])).toEqual([[10, undefined, undefined]]);
    expect(outcomes[0]!.error).toMatch(
      /^the stream holds 10 records from its first to its last sequence number, but Lambda's record says the batch had 8 /,
    );
    expect(stillCounted).toBe(true);
  });

  it("when the record is of another table's stream (a table created again), it is not read and says which stream the pipeline reads", async () => {
    const other = TABLE_STREAM_ARN.replace('2026-01-01T00:00:00.000', '2026-01-02T00:00:00.000');
    const { outcomes, shards, stillCounted } = await replayTable(tableFailureRecord(10, 19, 10, other));
    expect(outcomes.map((o) => o.error)).toEqual([
      `the record is for stream ${other}, but pipeline order-revenue reads ${TABLE_STREAM_ARN}`,
    ]);
    expect(shards).toEqual([]);
    expect(stillCounted).toBe(true);
  });

  it('when the deployment outputs name no stream ARN for the table, it says so and what to do', async () => {
    const { outcomes } = await replayTable(tableFailureRecord(10, 19, 10), 'orders');
    expect(outcomes.map((o) => o.error)).toEqual([
      `the record is for stream ${TABLE_STREAM_ARN}, but pipeline order-revenue reads orders (the deployment outputs name no stream ARN for table orders: redeploy it)`,
    ]);
  });
});
