import { resolveMappingConfig } from '../../../../localstack/eventSourceMapping/validateConfig';
import {
  buildStreamEvent,
  buildStreamFailureRecord,
  isTableStream,
} from '../../../../localstack/eventSourceMapping/streamEvent';
import { S3FailureDestination } from '../../../../localstack/eventSourceMapping/failureDestinations';
import { BatchProcessor } from '../../../../localstack/eventSourceMapping/BatchProcessor';
import type { InvocationRequest, KinesisRecordData } from '../../../../localstack/eventSourceMapping/types';
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

  it('a table mapping with a tumbling window sends, as Lambda does, the records with window, state, shardId, eventSourceARN and the final-invocation flags; the final invocation has no records', async () => {
    const events: unknown[] = [];
    const invoke = jest.fn(async (request: InvocationRequest) => {
      events.push(request.event);
      return { ok: true as const, payload: { batchItemFailures: [], state: {} } };
    });
    const done: KinesisRecordData[] = [];
    const processor = new BatchProcessor({
      config: resolveMappingConfig({
        uuid: 'u',
        functionName: 'f',
        startingPosition: 'TRIM_HORIZON',
        eventSourceArn: TABLE_ARN,
        tumblingWindowInSeconds: 900,
        functionResponseTypes: ['ReportBatchItemFailures'],
      }),
      fn: {} as never,
      context: context(TABLE_ARN),
      invoker: { invoke, close: async () => undefined },
      now: () => 1_767_225_600_000,
      newRequestId: () => 'r',
      onDone: (r) => void done.push(...r),
      isStopped: () => false,
      backoff: async () => undefined,
    });
    processor.window = { start: 1_767_225_600_000, end: 1_767_226_500_000, state: {} };
    await processor.process(records);
    await processor.finalizeWindow();
    const window = { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:15:00Z' };
    expect(events).toEqual([
      {
        Records: [{ ...lambdaRecord, eventSourceARN: TABLE_ARN }],
        window,
        state: {},
        shardId: 'shardId-1',
        eventSourceARN: TABLE_ARN,
        isFinalInvokeForWindow: false,
        isWindowTerminatedEarly: false,
      },
      {
        Records: [],
        window,
        state: {},
        shardId: 'shardId-1',
        eventSourceARN: TABLE_ARN,
        isFinalInvokeForWindow: true,
        isWindowTerminatedEarly: false,
      },
    ]);
    // In the order of the documented DynamoDB time-window event.
    expect(Object.keys(events[0] as object)).toEqual([
      'Records',
      'window',
      'state',
      'shardId',
      'eventSourceARN',
      'isFinalInvokeForWindow',
      'isWindowTerminatedEarly',
    ]);
    expect(done).toEqual(records);
    expect(processor.window).toBeUndefined();
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
    // A table's batches are fenced per shard, in order: one batch of a shard at a time (and Lambda is
    // reported to require it with a tumbling window).
    for (const mapping of [
      { eventSourceArn: TABLE_ARN, parallelizationFactor: 2 },
      { eventSourceArn: KINESIS_ARN, parallelizationFactor: 10, tumblingWindowInSeconds: 900 },
    ]) {
      expect(() => resolveMappingConfig({ ...base, ...mapping })).toThrow(
        `ParallelizationFactor must be 1 on a DynamoDB stream or with a tumbling window (given ${mapping.parallelizationFactor}): its batches are fenced per shard in order, so a shard's batches cannot run concurrently`,
      );
    }
    expect(
      resolveMappingConfig({ ...base, eventSourceArn: TABLE_ARN, tumblingWindowInSeconds: 900 }),
    ).toMatchObject({ parallelizationFactor: 1, tumblingWindowInSeconds: 900 });
    expect(
      resolveMappingConfig({ ...base, eventSourceArn: KINESIS_ARN, parallelizationFactor: 10 }),
    ).toMatchObject({ parallelizationFactor: 10 });
    expect(() => resolveMappingConfig({ ...base, eventSourceArn: 'arn:aws:sqs:us-east-1:1:q' })).toThrow(
      /EventSourceArn must be a Kinesis stream ARN or a DynamoDB table's stream ARN/,
    );
  });
});
