import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { countObjects, listFailedBatches } from '../../../functions/adapters/failedBatches';

/** An S3 client whose ListObjectsV2 answers `pages` in turn, recording each input. */
function listing(pages: { KeyCount: number; IsTruncated: boolean; NextContinuationToken?: string }[]) {
  const inputs: Record<string, unknown>[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      return pages[inputs.length - 1];
    },
  } as unknown as S3Client;
  return { client, inputs };
}

describe('countObjects', () => {
  it('when the listing spans pages, it adds them up, following the continuation token under the prefix', async () => {
    const { client, inputs } = listing([
      { KeyCount: 1000, IsTruncated: true, NextContinuationToken: 't1' },
      { KeyCount: 3, IsTruncated: false },
    ]);
    await expect(countObjects(client, 'b', 'aws/lambda/u/')).resolves.toBe(1003);
    expect(inputs).toEqual([
      { Bucket: 'b', Prefix: 'aws/lambda/u/' },
      { Bucket: 'b', Prefix: 'aws/lambda/u/', ContinuationToken: 't1' },
    ]);
  });

  it('when there are more than ten pages, it stops at ten (the count is a lower bound)', async () => {
    const { client, inputs } = listing(
      Array.from({ length: 20 }, (_, i) => ({
        KeyCount: 1000,
        IsTruncated: true,
        NextContinuationToken: `t${i}`,
      })),
    );
    await expect(countObjects(client, 'b', 'p/')).resolves.toBe(10_000);
    expect(inputs).toHaveLength(10);
  });
});

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000';
const DDB_SHARD = 'shardId-00000001767225600000-1a2b3c4d';
const KEY = `aws/lambda/uuid-1/${DDB_SHARD}/2026/01/01/00/rec.json`;

/**
 * What Lambda writes to an S3 on-failure destination for a skipped DynamoDB-stream batch (Lambda developer
 * guide, "services-dynamodb-errors", example invocation record; also `buildStreamFailureRecord` of the local
 * event source mapping).
 */
const ddbFailureRecord = (info: Record<string, unknown> = {}) => ({
  requestContext: {
    requestId: '316aa6d0-8154-xmpl-9af7-85d5f4a6bc81',
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-operator',
    condition: 'RetryAttemptsExhausted',
    approximateInvokeCount: 11,
  },
  responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
  version: '1.0',
  timestamp: '2026-01-01T01:00:00.000Z',
  DDBStreamBatchInfo: {
    shardId: DDB_SHARD,
    startSequenceNumber: '800000000003126276362',
    endSequenceNumber: '800000000003126276362',
    approximateArrivalOfFirstRecord: '2026-01-01T00:59:00Z',
    approximateArrivalOfLastRecord: '2026-01-01T00:59:00Z',
    batchSize: 1,
    streamArn: STREAM_ARN,
    ...info,
  },
});

/** An S3 client holding `objects` (JSON bodies) for ListObjectsV2 and GetObject. */
function s3With(objects: Record<string, unknown>): S3Client {
  return {
    send: async (command: unknown) => {
      if (command instanceof ListObjectsV2Command)
        return { Contents: Object.keys(objects).map((Key) => ({ Key })), IsTruncated: false };
      if (command instanceof GetObjectCommand) {
        const body = JSON.stringify(objects[command.input.Key!]);
        return { Body: { transformToString: async () => body } };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as S3Client;
}

describe('listFailedBatches', () => {
  it("when a table source's batch was skipped, its DynamoDB-stream on-failure record (DDBStreamBatchInfo) is read as a skipped batch of that table's stream, not as 'unreadable'", async () => {
    const { batches, unreadable } = await listFailedBatches(
      s3With({ [KEY]: ddbFailureRecord() }),
      'bucket',
      'aws/lambda/uuid-1/',
    );
    expect(unreadable).toEqual([]);
    expect(batches).toEqual([
      {
        key: KEY,
        source: 'table',
        shardId: DDB_SHARD,
        // A table source's configured stream is its table's stream ARN.
        stream: STREAM_ARN,
        firstSequence: '800000000003126276362',
        lastSequence: '800000000003126276362',
        batchSize: 1,
      },
    ]);
  });

  it("a Kinesis batch's record (KinesisBatchInfo) is read as a skipped batch of the stream it names", async () => {
    const key = 'aws/lambda/uuid-1/shardId-000000000000/rec.json';
    const { batches } = await listFailedBatches(
      s3With({
        [key]: {
          KinesisBatchInfo: {
            shardId: 'shardId-000000000000',
            startSequenceNumber: '49590338271490256608559692538361571095921575989136588898',
            endSequenceNumber: '49590338271490256608559692540925702759324208523137515618',
            batchSize: 500,
            streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/page-activity',
          },
        },
      }),
      'bucket',
      'aws/lambda/uuid-1/',
    );
    expect(batches.map((b) => [b.source, b.stream, b.batchSize])).toEqual([
      ['kinesis', 'page-activity', 500],
    ]);
  });

  it.each([
    [
      'a field is missing',
      { batchSize: undefined },
      'not a DynamoDB-stream on-failure record (DDBStreamBatchInfo.batchSize: Invalid input)',
    ],
    [
      'a sequence number is not decimal',
      { endSequenceNumber: '8000000000031262763x2' },
      'not a DynamoDB-stream on-failure record (DDBStreamBatchInfo.endSequenceNumber: Invalid input)',
    ],
    [
      'a sequence number is longer than a stream gives',
      { endSequenceNumber: '9'.repeat(65) },
      'a sequence number has more digits than a DynamoDB stream gives',
    ],
    [
      'its end precedes its start',
      { endSequenceNumber: '800000000003126276361' },
      'its endSequenceNumber precedes its startSequenceNumber',
    ],
  ])('when %s, the DynamoDB-stream record is listed as unreadable, saying why', async (_, info, reason) => {
    const { batches, unreadable } = await listFailedBatches(
      s3With({ [KEY]: ddbFailureRecord(info) }),
      'bucket',
      'aws/lambda/uuid-1/',
    );
    expect(batches).toEqual([]);
    expect(unreadable).toEqual([{ key: KEY, reason }]);
  });
});
