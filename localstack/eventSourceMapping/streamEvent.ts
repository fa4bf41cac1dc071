/**
 * The event and the on-failure record of a batch, for the mapping's source: a Kinesis stream
 * (`kinesisEvent.ts`) or a table's DynamoDB stream, whose records `SdkDynamoDBStreamReader` reads already
 * shaped as Lambda's DynamoDB-stream event records.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { eventRecord } from '../../functions/adapters/dynamoDBStreamRecord';
import { buildFailureRecord, buildKinesisEvent, type EventContext } from './kinesisEvent';
import { TABLE_STREAM_ARN } from './constants';
import type { FailureRecord, KinesisRecordData } from './types';

/** Whether a mapping reads a table's DynamoDB stream (else a Kinesis stream). */
export function isTableStream(streamArn: string): boolean {
  return TABLE_STREAM_ARN.test(streamArn);
}

/**
 * The event Lambda passes for `records`. The runtime carries every event as a `KinesisStreamEvent`; a
 * table's is a `DynamoDBStreamEvent` (the same `Records` array, each record with `dynamodb` instead of
 * `kinesis`), which the handler reads as such.
 */
export function buildStreamEvent(
  records: readonly KinesisRecordData[],
  context: EventContext,
): KinesisStreamEvent {
  if (!isTableStream(context.streamArn)) return buildKinesisEvent(records, context);
  return {
    Records: records.map((record) =>
      eventRecord(Buffer.from(record.data).toString('utf8'), context.streamArn),
    ),
  } as unknown as KinesisStreamEvent;
}

/** The on-failure invocation record of a discarded batch (`DDBStreamBatchInfo` for a table's stream). */
export function buildStreamFailureRecord(input: Parameters<typeof buildFailureRecord>[0]): FailureRecord {
  const record = buildFailureRecord(input);
  if (!isTableStream(input.context.streamArn)) return record;
  const { KinesisBatchInfo, ...rest } = record;
  return { ...rest, DDBStreamBatchInfo: KinesisBatchInfo };
}
