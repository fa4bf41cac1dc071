/**
 * Replays the batches a pipeline's event source mapping skipped (`shardflow replay-failures`): for each
 * on-failure record under the mapping's prefix, the batch's range is read back from the stream (a Kinesis
 * stream, or a table's DynamoDB stream, decoded as the operator decodes Lambda's event), the records
 * no commit applied are applied exactly once (`SkippedBatchReplay`), and the record moves to
 * `failed-batches/replayed/` so the FailedBatchesPending gauge drops and a second run does not find it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { BatchProcessor } from '../core/state/BatchProcessor';
import { SkippedBatchReplay, type ReplayResult } from '../core/state/SkippedBatchReplay';
import type { StatefulPipeline } from '../core/state/types';
import { DynamoDBStateStore } from './DynamoDBStateStore';
import {
  listFailedBatches,
  markReplayed,
  type FailedBatch,
  type UnreadableFailureRecord,
} from './failedBatches';
import { ParquetResultEncoder } from './ParquetResultEncoder';
import { S3ObjectStore } from './S3ObjectStore';
import { StreamPublisher } from '../core/state/streamPublisher';
import { KinesisStreamPutter } from './KinesisStreamPutter';
import { readShardRange } from './streamShards';
import { decodeTableShardRange, readTableShardRange } from './tableStreamRange';
import type { RawRecord } from '../core/types';
import { InvalidOptionError } from '../core/errors';

/** One deployed pipeline whose skipped batches are replayed. */
export interface ReplayTarget {
  readonly pipeline: StatefulPipeline;
  /** The stream its mapping reads: a Kinesis stream's name, a table stream's ARN (a table source). */
  readonly stream: string;
  /** Its mapping's on-failure prefix, `aws/lambda/<mapping uuid>/`. */
  readonly failurePrefix: string;
}

/** What happened to one skipped batch. */
export interface FailedBatchOutcome {
  readonly pipeline: string;
  readonly batch: FailedBatch;
  /** Records read back from the stream (also on a dry run). */
  readonly recordsRead?: number;
  /** The replay, unless a dry run or an error. */
  readonly replay?: ReplayResult;
  /** Where the on-failure record moved, once replayed. */
  readonly movedTo?: string;
  /** Why the batch was not replayed (it stays where it was, so the next run tries again). */
  readonly error?: string;
}

export interface ReplayFailedBatchesOptions {
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  /** Reads the skipped batches of a table source (its table's DynamoDB stream). */
  readonly dynamoDbStreams?: DynamoDBStreamsClient;
  readonly dynamoDb?: DynamoDBClient;
  readonly bucket: string;
  readonly stateTable: string;
  /** Reads the range and reports it, changes nothing. */
  readonly dryRun?: boolean;
  /** Called after each batch (progress on long runs). */
  readonly onBatch?: (outcome: FailedBatchOutcome) => void;
}

/** Replays every skipped batch of `targets`; never throws for one batch (its outcome carries the error). */
export async function replayFailedBatches(
  targets: readonly ReplayTarget[],
  options: ReplayFailedBatchesOptions,
): Promise<{ outcomes: FailedBatchOutcome[]; unreadable: UnreadableFailureRecord[] }> {
  const outcomes: FailedBatchOutcome[] = [];
  const unreadable: UnreadableFailureRecord[] = [];
  const store = new DynamoDBStateStore({
    tableName: options.stateTable,
    ...(options.dynamoDb ? { client: options.dynamoDb } : {}),
  });
  const objects = new S3ObjectStore({ bucket: options.bucket, client: options.s3 });
  for (const target of targets) {
    const { pipeline } = target;
    const listed = await listFailedBatches(options.s3, options.bucket, target.failurePrefix);
    unreadable.push(...listed.unreadable);
    const processor = new BatchProcessor({
      pipeline,
      store,
      objects,
      encoder: new ParquetResultEncoder(),
      clock: { now: () => Date.now() },
      // The stack names the downstream stream as the pipeline does (`ShardflowPipeline`).
      ...(pipeline.spec.publish === undefined
        ? {}
        : {
            publisher: new StreamPublisher(
              new KinesisStreamPutter(options.kinesis),
              pipeline.spec.publish.stream,
            ),
          }),
      ...(pipeline.spec.sink?.toStream === undefined
        ? {}
        : {
            resultPublisher: new StreamPublisher(
              new KinesisStreamPutter(options.kinesis),
              pipeline.spec.sink.toStream,
            ),
          }),
    });
    const replayer = new SkippedBatchReplay({ processor, store, objects, pipeline });
    for (const batch of listed.batches) {
      const outcome = await replayOne(target, batch, replayer, options).catch(
        (error: unknown): FailedBatchOutcome => ({
          pipeline: pipeline.spec.name,
          batch,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      outcomes.push(outcome);
      options.onBatch?.(outcome);
    }
  }
  return { outcomes, unreadable };
}

async function replayOne(
  target: ReplayTarget,
  batch: FailedBatch,
  replayer: SkippedBatchReplay,
  options: ReplayFailedBatchesOptions,
): Promise<FailedBatchOutcome> {
  const name = target.pipeline.spec.name;
  if (batch.stream !== target.stream)
    return {
      pipeline: name,
      batch,
      error: `the record is for stream ${batch.stream}, but pipeline ${name} reads ${target.stream}${
        target.pipeline.spec.source.table !== undefined && !target.stream.startsWith('arn:')
          ? ` (the deployment outputs name no stream ARN for table ${target.stream}: redeploy it)`
          : ''
      }`,
    };
  const records =
    batch.source === 'table'
      ? await readTableBatch(target, batch, options)
      : await readShardRange(
          options.kinesis,
          batch.stream,
          batch.shardId,
          batch.firstSequence,
          batch.lastSequence,
        );
  if (records.length !== batch.batchSize)
    // Lambda's record counts the records it invoked the function with; the stream holds more between the
    // two ends when the mapping's filter criteria dropped some (replaying them would apply records the
    // pipeline never saw), fewer when the record contradicts the stream. Either way: not replayed, kept.
    return {
      pipeline: name,
      batch,
      recordsRead: records.length,
      error: `the stream holds ${records.length} records from its first to its last sequence number, but Lambda's record says the batch had ${batch.batchSize} (a mapping with filter criteria, or a record that does not match the stream): not replayed, the record stays where it is`,
    };
  if (options.dryRun === true) return { pipeline: name, batch, recordsRead: records.length };
  const replay = await replayer.replay(batch.shardId, batch.firstSequence, batch.lastSequence, records);
  const movedTo = await markReplayed(options.s3, options.bucket, batch.key);
  return { pipeline: name, batch, recordsRead: records.length, replay, movedTo };
}

/**
 * A table source's skipped range, read back from its table's stream and decoded as the operator decodes
 * Lambda's event for it (one record per change read, so the count is the stream's).
 */
async function readTableBatch(
  target: ReplayTarget,
  batch: FailedBatch,
  options: ReplayFailedBatchesOptions,
): Promise<RawRecord[]> {
  const view = target.pipeline.spec.source.table?.view;
  if (view === undefined)
    throw new InvalidOptionError(
      `the record is of a table's stream, but pipeline ${target.pipeline.spec.name} reads a Kinesis stream: check the on-failure prefix`,
    );
  if (options.dynamoDbStreams === undefined)
    throw new InvalidOptionError(
      'reading a table stream needs a DynamoDB Streams client: pass dynamoDbStreams',
    );
  const read = await readTableShardRange(
    options.dynamoDbStreams,
    batch.stream,
    batch.shardId,
    batch.firstSequence,
    batch.lastSequence,
  );
  return decodeTableShardRange(read, batch.stream, batch.shardId, view);
}
