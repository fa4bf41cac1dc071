import { resolveMappingConfig } from '../../../../localstack/eventSourceMapping/validateConfig';
import {
  buildStreamEvent,
  buildStreamFailureRecord,
  isTableStream,
} from '../../../../localstack/eventSourceMapping/streamEvent';
import { S3FailureDestination } from '../../../../localstack/eventSourceMapping/failureDestinations';
import type { KinesisRecordData } from '../../../../localstack/eventSourceMapping/types';
import type { S3Client } from '@aws-sdk/client-s3';

const TABLE_ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/orders/stream/2026-01-01T00:00:00.000';
const KINESIS_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks';
const context = (streamArn: string) => ({
  shardId: 'shardId-1',
  streamArn,
  region: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/r',
});
const lambdaRecord = {
  eventID: 'e1',
  eventName: 'INSERT',
  dynamodb: { SequenceNumber: '100', Keys: { id: { S: 'a' } } },
};
const records: KinesisRecordData[] = [
  {
    sequenceNumber: '100',
    partitionKey: '{"id":{"S":"a"}}',
    data: Buffer.from(JSON.stringify(lambdaRecord)),
    approximateArrivalTimestamp: 1_767_225_600_000,
  },
];

describe('stream events of a table mapping', () => {
  it('tells a table stream ARN from a Kinesis stream ARN', () => {
    expect(isTableStream(TABLE_ARN)).toBe(true);
    expect(isTableStream(KINESIS_ARN)).toBe(false);
    expect(isTableStream('arn:aws:dynamodb:us-east-1:000000000000:table/orders')).toBe(false);
  });

  it('a table mapping’s event is the DynamoDB-stream records with the stream ARN; a Kinesis mapping’s is unchanged', () => {
    expect(buildStreamEvent(records, context(TABLE_ARN))).toEqual({
      Records: [{ ...lambdaRecord, eventSourceARN: TABLE_ARN }],
    });
    expect(buildStreamEvent(records, context(KINESIS_ARN)).Records[0]).toMatchObject({
      eventSourceARN: KINESIS_ARN,
      kinesis: { sequenceNumber: '100' },
    });
  });

  it('a discarded batch of a table is described as DDBStreamBatchInfo, as Lambda does, and the S3 destination files it by shard', async () => {
    const input = {
      records,
      requestId: 'r1',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      condition: 'RetryAttemptsExhausted' as const,
      invokeCount: 3,
      now: 1_767_225_600_000,
    };
    const table = buildStreamFailureRecord({ ...input, context: context(TABLE_ARN) });
    expect(table).not.toHaveProperty('KinesisBatchInfo');
    expect(table).toMatchObject({
      DDBStreamBatchInfo: {
        shardId: 'shardId-1',
        startSequenceNumber: '100',
        batchSize: 1,
        streamArn: TABLE_ARN,
      },
    });
    expect(buildStreamFailureRecord({ ...input, context: context(KINESIS_ARN) })).toHaveProperty(
      'KinesisBatchInfo.shardId',
      'shardId-1',
    );
    const send = jest.fn(async () => ({}));
    await new S3FailureDestination({ send } as unknown as S3Client, 'b').send('m1', table, { Records: [] });
    expect((send.mock.calls[0] as unknown as [{ input: { Key: string } }])[0].input.Key).toMatch(/shardId-1/);
  });

  it('a mapping may read a table’s stream, but not from a timestamp', () => {
    const base = { uuid: 'u', functionName: 'f', startingPosition: 'TRIM_HORIZON' as const };
    expect(resolveMappingConfig({ ...base, eventSourceArn: TABLE_ARN })).toMatchObject({
      eventSourceArn: TABLE_ARN,
    });
    expect(() =>
      resolveMappingConfig({
        ...base,
        eventSourceArn: TABLE_ARN,
        startingPosition: 'AT_TIMESTAMP',
        startingPositionTimestamp: 1,
      }),
    ).toThrow(/AT_TIMESTAMP is not supported for a DynamoDB stream/);
    expect(() => resolveMappingConfig({ ...base, eventSourceArn: 'arn:aws:sqs:us-east-1:1:q' })).toThrow(
      /EventSourceArn must be a Kinesis stream ARN or a DynamoDB table's stream ARN/,
    );
  });
});
