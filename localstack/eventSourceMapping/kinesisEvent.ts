import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { KINESIS_EVENT } from './constants';
import type { FailureCondition, InvocationOutcome, KinesisFailureRecord, KinesisRecordData } from './types';

/** What every record of one batch shares. */
export interface EventContext {
  readonly shardId: string;
  readonly streamArn: string;
  readonly region: string;
  readonly invokeIdentityArn: string;
}

/**
 * Builds the `KinesisStreamEvent` Lambda passes to a function, with the keys in the order AWS sends
 * them and `approximateArrivalTimestamp` in fractional epoch seconds.
 */
export function buildKinesisEvent(
  records: readonly KinesisRecordData[],
  context: EventContext,
): KinesisStreamEvent {
  return {
    Records: records.map((record): KinesisStreamRecord => ({
      kinesis: {
        kinesisSchemaVersion: KINESIS_EVENT.SCHEMA_VERSION,
        partitionKey: record.partitionKey,
        sequenceNumber: record.sequenceNumber,
        data: Buffer.from(record.data).toString('base64'),
        approximateArrivalTimestamp: record.approximateArrivalTimestamp / 1000,
      },
      eventSource: KINESIS_EVENT.EVENT_SOURCE,
      eventVersion: KINESIS_EVENT.EVENT_VERSION,
      eventID: `${context.shardId}:${record.sequenceNumber}`,
      eventName: KINESIS_EVENT.EVENT_NAME,
      invokeIdentityArn: context.invokeIdentityArn,
      awsRegion: context.region,
      eventSourceARN: context.streamArn,
    })),
  };
}

/** The invocation record Lambda sends to an on-failure destination for a discarded Kinesis batch. */
export function buildFailureRecord(input: {
  readonly records: readonly KinesisRecordData[];
  readonly context: EventContext;
  readonly requestId: string;
  readonly functionArn: string;
  readonly condition: FailureCondition;
  readonly invokeCount: number;
  readonly lastOutcome?: InvocationOutcome;
  readonly now: number;
}): KinesisFailureRecord {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  if (first === undefined || last === undefined)
    throw new RangeError('a failure record needs at least one record');
  const outcome = input.lastOutcome;
  return {
    requestContext: {
      requestId: input.requestId,
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.invokeCount,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: outcome === undefined || outcome.ok ? '' : 'Unhandled',
    },
    version: '1.0',
    timestamp: new Date(input.now).toISOString(),
    KinesisBatchInfo: {
      shardId: input.context.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.approximateArrivalTimestamp).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.approximateArrivalTimestamp).toISOString(),
      batchSize: input.records.length,
      streamArn: input.context.streamArn,
    },
  };
}
