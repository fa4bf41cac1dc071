/**
 * The on-failure records Lambda writes for batches it skipped after their retries (an S3 on-failure
 * destination: one object per skipped batch under `aws/lambda/<mapping-uuid>/<shard-id>/…`). Counting
 * them is how a skipped batch stops being silent: the tick publishes the count, an alarm fires on it;
 * reading them (`KinesisBatchInfo` for a Kinesis stream's batch, `DDBStreamBatchInfo` for a table stream's)
 * is how it is replayed (`shardflow replay-failures`), after which the record moves to
 * `failed-batches/replayed/` so that it is counted and replayed once.
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import { S3ObjectStore } from './S3ObjectStore';
import { BUCKET_PREFIX } from '../core/constants';
import { isValidSequence, padSequence } from '../core/sequence';

/** Pages counted at most per call (1,000 keys each): beyond that the count says "at least". */
const MAX_PAGES = 10;

/**
 * Objects under `prefix` in `bucket`, counted up to `MAX_PAGES` listing pages (10,000 objects): enough
 * for an alarm at 1, and a bounded cost per tick.
 */
export async function countObjects(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    count += listed.KeyCount ?? listed.Contents?.length ?? 0;
    token = listed.IsTruncated === true ? listed.NextContinuationToken : undefined;
    if (token === undefined) break;
  }
  return count;
}

/**
 * The batch Lambda's on-failure record describes (fields read here only): `KinesisBatchInfo` for a Kinesis
 * stream, `DDBStreamBatchInfo` with the same fields for a table's DynamoDB stream (Lambda developer guide,
 * "services-dynamodb-errors"). Both have decimal sequence numbers (a DynamoDB stream's have 21 digits or more).
 */
const batchInfoSchema = z.object({
  shardId: z.string().check(z.minLength(1), z.maxLength(128)),
  startSequenceNumber: z.string().check(z.regex(/^\d{1,128}$/)),
  endSequenceNumber: z.string().check(z.regex(/^\d{1,128}$/)),
  batchSize: z.int().check(z.nonnegative()),
  streamArn: z.string().check(z.minLength(1), z.maxLength(2048)),
});
/** How each kind of on-failure record is read and named. */
const KINDS = {
  kinesis: {
    field: 'KinesisBatchInfo',
    label: 'Kinesis',
    source: 'Kinesis',
    // The record names the stream by ARN; a Kinesis pipeline's configured stream is its name.
    stream: (arn: string) => arn.slice(arn.lastIndexOf('/') + 1),
  },
  table: {
    field: 'DDBStreamBatchInfo',
    label: 'DynamoDB-stream',
    source: 'a DynamoDB stream',
    // A table pipeline's configured stream is its table's stream ARN.
    stream: (arn: string) => arn,
  },
} as const;

/** Which kind of stream a skipped batch was read from. */
export type FailedBatchSource = 'kinesis' | 'table';

/** One batch Lambda skipped, as its on-failure record describes it. */
export interface FailedBatch {
  /** The record's object key. */
  readonly key: string;
  /** A Kinesis stream (`KinesisBatchInfo`) or a table's DynamoDB stream (`DDBStreamBatchInfo`). */
  readonly source: FailedBatchSource;
  readonly shardId: string;
  /**
   * The stream: a Kinesis stream's name (from the record's stream ARN), a table stream's ARN (a table
   * pipeline's configured stream is its table's stream ARN).
   */
  readonly stream: string;
  readonly firstSequence: string;
  readonly lastSequence: string;
  /** Records Lambda invoked the function with. */
  readonly batchSize: number;
}

/** An object under the prefix that is not an on-failure record of a Kinesis or table-stream batch. */
export interface UnreadableFailureRecord {
  readonly key: string;
  readonly reason: string;
}

/** Every on-failure record under `prefix`, oldest key first, and the objects that are not such records. */
export async function listFailedBatches(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ batches: FailedBatch[]; unreadable: UnreadableFailureRecord[] }> {
  const keys = await new S3ObjectStore({ client: s3, bucket }).listKeys(prefix);
  const batches: FailedBatch[] = [];
  const unreadable: UnreadableFailureRecord[] = [];
  for (const key of keys) {
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    ).Body?.transformToString();
    let parsed: unknown;
    try {
      parsed = JSON.parse(body ?? '');
    } catch {
      unreadable.push({ key, reason: 'not JSON' });
      continue;
    }
    const source: FailedBatchSource =
      parsed !== null &&
      typeof parsed === 'object' &&
      'DDBStreamBatchInfo' in parsed &&
      !('KinesisBatchInfo' in parsed)
        ? 'table'
        : 'kinesis';
    const kind = KINDS[source];
    const record = z.safeParse(z.object({ [kind.field]: batchInfoSchema }), parsed);
    if (!record.success) {
      const issue = record.error.issues[0];
      unreadable.push({
        key,
        reason: `not a ${kind.label} on-failure record (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
      });
      continue;
    }
    const info = record.data[kind.field]!;
    const bounds = [info.startSequenceNumber, info.endSequenceNumber];
    if (!bounds.every(isValidSequence)) {
      unreadable.push({ key, reason: `a sequence number has more digits than ${kind.source} gives` });
      continue;
    }
    if (padSequence(info.startSequenceNumber) > padSequence(info.endSequenceNumber)) {
      unreadable.push({ key, reason: 'its endSequenceNumber precedes its startSequenceNumber' });
      continue;
    }
    batches.push({
      key,
      source,
      shardId: info.shardId,
      stream: kind.stream(info.streamArn),
      firstSequence: info.startSequenceNumber,
      lastSequence: info.endSequenceNumber,
      batchSize: info.batchSize,
    });
  }
  return { batches, unreadable };
}

/** Where a replayed record moves: `failed-batches/replayed/<its key>` (expired with the other failed batches). */
export function replayedRecordKey(key: string): string {
  return `${BUCKET_PREFIX.FAILED_BATCHES}replayed/${key}`;
}

/** Moves the on-failure record `key` out of the counted prefix once its batch is replayed (copy, then delete). */
export async function markReplayed(s3: S3Client, bucket: string, key: string): Promise<string> {
  const target = replayedRecordKey(key);
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: target,
      CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
    }),
  );
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return target;
}
