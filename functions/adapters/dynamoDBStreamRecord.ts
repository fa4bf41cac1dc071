/**
 * A DynamoDB Streams `GetRecords` record (the SDK's `_Record`) as Lambda's DynamoDB-stream event carries it:
 * `ApproximateCreationDateTime` in epoch seconds, binary attribute values base64, `userIdentity` in the
 * event's lower-case fields. One owner for the shape: the local event source mapping
 * (`SdkDynamoDBStreamReader`) delivers records in it, and `replay-failures` reads a skipped range back in it
 * (`tableStreamRange.ts`), so both reach the codec (`dynamoDBStreamEventCodec.ts`) exactly as Lambda's would;
 * {@link eventRecord} makes the event's record of it, for the event, a filter's view and a replayed range.
 */
import type { _Record } from '@aws-sdk/client-dynamodb-streams';

/**
 * The record as Lambda's event carries it, less `eventSourceARN`; `userIdentity` (a Time-to-Live delete's,
 * when the stream has one: DynamoDB Local may not write it) in the event's lower-case fields.
 */
export function lambdaRecord(record: _Record): Record<string, unknown> {
  const { ApproximateCreationDateTime, ...rest } = record.dynamodb ?? {};
  const identity = record.userIdentity;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion,
    dynamodb: {
      ...(ApproximateCreationDateTime !== undefined
        ? { ApproximateCreationDateTime: ApproximateCreationDateTime.getTime() / 1000 }
        : {}),
      ...rest,
    },
    ...(identity !== undefined
      ? { userIdentity: { type: identity.Type, principalId: identity.PrincipalId } }
      : {}),
  };
}

/** JSON with binary attribute values base64-encoded, as in Lambda's events. */
export function lambdaJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    // A Buffer has turned itself into { type: 'Buffer', data } before the replacer sees it.
    const o = v as { type?: unknown; data?: unknown } | null;
    if (o !== null && typeof o === 'object' && o.type === 'Buffer' && Array.isArray(o.data))
      return Buffer.from(o.data as number[]).toString('base64');
    return v;
  });
}

/**
 * One record of Lambda's DynamoDB-stream event: the record's {@link lambdaJson} (of {@link lambdaRecord}) with
 * the `eventSourceARN` of the stream it came from.
 */
export function eventRecord(json: string, streamArn: string): Record<string, unknown> {
  return { ...(JSON.parse(json) as Record<string, unknown>), eventSourceARN: streamArn };
}
