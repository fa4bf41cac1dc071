/** Builders of DynamoDB-stream event records exactly as Lambda delivers them (DynamoDB JSON images). */
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';

export const TABLE_STREAM_ARN =
  'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000';

/** One change record; `dynamodb` fields override the defaults (pass `undefined` to drop one). */
export function streamRecord(
  eventName: string,
  sequenceNumber: unknown,
  timeSeconds: unknown,
  images: { NewImage?: unknown; OldImage?: unknown; Keys?: unknown },
  extra: Record<string, unknown> = {},
): DynamoDBRecord {
  return {
    eventID: `id-${String(sequenceNumber)}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: TABLE_STREAM_ARN,
    dynamodb: {
      ApproximateCreationDateTime: timeSeconds,
      Keys: images.Keys ?? { orderId: { S: 'o1' } },
      SequenceNumber: sequenceNumber,
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      ...(images.NewImage !== undefined ? { NewImage: images.NewImage } : {}),
      ...(images.OldImage !== undefined ? { OldImage: images.OldImage } : {}),
      ...extra,
    },
  } as unknown as DynamoDBRecord;
}

/** An `orders` item in DynamoDB JSON. */
export function orderItem(orderId: string, region: string, amount: number): Record<string, unknown> {
  return { orderId: { S: orderId }, region: { S: region }, amount: { N: String(amount) } };
}

/** The `i`-th sequence number of a table stream's shard (21+ digits, as DynamoDB writes them). */
export const tableSequence = (i: number): string => String(800000000003126276000n + BigInt(i));

/**
 * The INSERT of order `o<i>` (region `eu`, amount `i`) as GetRecords returns it (the SDK's `_Record`), at
 * sequence number {@link tableSequence}(i); `newImage` adds attributes to its new image.
 */
export function orderInsert(i: number, createdAt: Date, newImage: Record<string, unknown> = {}): _Record {
  return {
    eventID: `id-${i}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: createdAt,
      Keys: { orderId: { S: `o${i}` } },
      NewImage: { orderId: { S: `o${i}` }, region: { S: 'eu' }, amount: { N: String(i) }, ...newImage },
      SequenceNumber: tableSequence(i),
      SizeBytes: 40,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}
