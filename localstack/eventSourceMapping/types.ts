/**
 * Interfaces of the local Kinesis event-source-mapping runtime: the mapping configuration (the
 * CloudFormation `AWS::Lambda::EventSourceMapping` properties), the Kinesis read port, the function
 * invoker, the checkpoint store and the failure destinations. Implementations live one per file.
 */
import type { KinesisStreamEvent, KinesisStreamTumblingWindowEvent } from 'aws-lambda';

/** The event of a mapping with tumbling windows: the batch plus window, state and shard. */
export interface KinesisWindowEvent extends KinesisStreamTumblingWindowEvent {
  readonly shardId: string;
  readonly eventSourceARN: string;
}

/** Where a mapping starts reading a shard that has no checkpoint. */
export const STARTING_POSITION = {
  TRIM_HORIZON: 'TRIM_HORIZON',
  LATEST: 'LATEST',
  AT_TIMESTAMP: 'AT_TIMESTAMP',
} as const;
export type StartingPosition = (typeof STARTING_POSITION)[keyof typeof STARTING_POSITION];

/** The only `FunctionResponseTypes` value Lambda supports for streams. */
export const REPORT_BATCH_ITEM_FAILURES = 'ReportBatchItemFailures';

/** One Kinesis event source mapping, with the same names, ranges and defaults as Lambda's API. */
export interface EventSourceMappingConfig {
  /** Mapping id (Lambda's UUID); checkpoints are keyed by it. */
  readonly uuid: string;
  /** Name of the function registered with the runtime. */
  readonly functionName: string;
  /** ARN of the Kinesis stream (`arn:aws:kinesis:<region>:<account>:stream/<name>`). */
  readonly eventSourceArn: string;
  /** 1–10000. @default 100 */
  readonly batchSize?: number;
  /** 0–300 seconds. @default 0 */
  readonly maximumBatchingWindowInSeconds?: number;
  readonly startingPosition: StartingPosition;
  /** Required with AT_TIMESTAMP: epoch seconds (fractional allowed). */
  readonly startingPositionTimestamp?: number;
  /** 1–10 concurrent batches per shard. @default 1 */
  readonly parallelizationFactor?: number;
  /** @default false */
  readonly bisectBatchOnFunctionError?: boolean;
  /** -1 (infinite) or 0–10000. @default -1 */
  readonly maximumRetryAttempts?: number;
  /** -1 (infinite) or 60–604800 seconds. @default -1 */
  readonly maximumRecordAgeInSeconds?: number;
  /** `['ReportBatchItemFailures']` enables partial batch responses. @default [] */
  readonly functionResponseTypes?: readonly string[];
  /** ARN of an S3 bucket or SQS queue that receives the metadata of discarded batches. */
  readonly onFailureDestination?: string;
  /**
   * 0–900 seconds; > 0 turns on tumbling windows: state carried between invocations of a window and
   * a final invocation (`isFinalInvokeForWindow`) when the window ends. @default 0
   */
  readonly tumblingWindowInSeconds?: number;
  /** Lambda event filter patterns (JSON strings); a record is delivered when any pattern matches. */
  readonly filterPatterns?: readonly string[];
  /** @default true */
  readonly enabled?: boolean;
}

/** A shard as returned by ListShards. */
export interface ShardDescription {
  readonly shardId: string;
  readonly parentShardId?: string;
  readonly adjacentParentShardId?: string;
  /** Present when the shard is closed (after a split or merge). */
  readonly endingSequenceNumber?: string;
}

/** A record as returned by GetRecords. */
export interface KinesisRecordData {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Epoch milliseconds. */
  readonly approximateArrivalTimestamp: number;
}

export type ShardIteratorRequest =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: number }
  | { readonly type: 'AFTER_SEQUENCE_NUMBER' | 'AT_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

export interface GetRecordsResult {
  readonly records: readonly KinesisRecordData[];
  /** Absent once a closed shard has been read to its end. */
  readonly nextShardIterator?: string;
  readonly millisBehindLatest: number;
}

/**
 * The Kinesis read calls the runtime needs. `SdkKinesisReader` implements it over the AWS SDK; unit
 * tests use an in-memory fake.
 */
export interface KinesisReader {
  listShards(streamArn: string): Promise<readonly ShardDescription[]>;
  getShardIterator(streamArn: string, shardId: string, request: ShardIteratorRequest): Promise<string>;
  getRecords(shardIterator: string, limit: number): Promise<GetRecordsResult>;
  /**
   * When the stream was created (epoch ms). Checkpoints are kept per stream incarnation, so a stream
   * deleted and created again (a fresh emulator) is not read from a stale checkpoint.
   */
  streamCreatedAt?(streamArn: string): Promise<number | undefined>;
}

/** A function registered with the runtime (from the template's `AWS::Lambda::Function`). */
export interface FunctionDefinition {
  readonly functionName: string;
  readonly functionArn: string;
  /** Absolute path of the bundle's entry file (e.g. `cdk.out/asset.<hash>/index.js`). */
  readonly entryFile: string;
  /** Name of the exported handler (the part after the last dot of `Handler`). */
  readonly exportName: string;
  /** Seconds. @default 3 */
  readonly timeoutSeconds: number;
  /** MB. @default 128 */
  readonly memorySize: number;
  readonly environment: Readonly<Record<string, string>>;
  /** The execution role ARN, used as `invokeIdentityArn` in the event. */
  readonly roleArn: string;
  readonly region: string;
}

/** How an invocation ended. `Unhandled` is an error thrown by the handler. */
export type InvocationOutcome =
  | { readonly ok: true; readonly payload: unknown }
  | {
      readonly ok: false;
      readonly functionError: 'Unhandled' | 'TimedOut' | 'Crashed';
      readonly errorType: string;
      readonly errorMessage: string;
    };

/** What the runtime hands an invoker. */
export interface InvocationRequest {
  readonly fn: FunctionDefinition;
  readonly event: KinesisStreamEvent;
  readonly requestId: string;
}

/** Runs a function. `WorkerInvoker` runs bundles in warm `worker_threads`; tests inject doubles. */
export interface Invoker {
  invoke(request: InvocationRequest): Promise<InvocationOutcome>;
  /** Releases warm instances. */
  close(): Promise<void>;
}

/**
 * A fault injected around one invocation (for the exactly-once fault suite):
 * - `crashBefore`: the invocation fails without running the handler;
 * - `crashAfter`: the handler runs (its side effects happen) and the invocation then fails;
 * - `timeout`: the handler runs and the invocation is reported as timed out;
 * - `duplicate`: the same event is delivered twice in a row; the second outcome counts.
 */
export type InjectedFault = 'crashBefore' | 'crashAfter' | 'timeout' | 'duplicate';

/** Everything known about an invocation before it runs. */
export interface InvocationInfo {
  readonly mappingUuid: string;
  readonly shardId: string;
  readonly functionName: string;
  readonly requestId: string;
  /** 1 for the first attempt of these records, then 2, 3… for retries. */
  readonly attempt: number;
  readonly event: KinesisStreamEvent;
}

/** Observation and fault-injection hooks. */
export interface InvocationHooks {
  /** Called before each invocation; returning a fault injects it. */
  beforeInvoke?(info: InvocationInfo): InjectedFault | undefined | Promise<InjectedFault | undefined>;
  /** Called after each invocation with the outcome the runtime acts on. */
  onInvoke?(info: InvocationInfo, outcome: InvocationOutcome): void | Promise<void>;
}

/** Persisted progress of one shard of one mapping. */
export interface ShardCheckpoint {
  /** Every record up to and including this sequence number is done (processed, filtered or discarded). */
  readonly sequenceNumber?: string;
  /** The shard is closed and fully processed: its children may start. */
  readonly ended: boolean;
  /**
   * Where the shard is read from until its first checkpoint: the mapping's starting position, LATEST fixed as
   * AT_TIMESTAMP of the mapping's start (so a restart before that neither replays nor skips records).
   */
  readonly start?: ShardIteratorRequest;
}

/** Where checkpoints live; `FileCheckpointStore` survives restarts. */
export interface CheckpointStore {
  get(mappingUuid: string, shardId: string): Promise<ShardCheckpoint | undefined>;
  put(mappingUuid: string, shardId: string, checkpoint: ShardCheckpoint): Promise<void>;
  /** True once the mapping has been started at least once (new shards are then read from TRIM_HORIZON). */
  hasMapping(mappingUuid: string): Promise<boolean>;
  markMapping(mappingUuid: string): Promise<void>;
}

/** Why a batch was discarded (Lambda's `requestContext.condition`). */
export const FAILURE_CONDITION = {
  RETRIES_EXHAUSTED: 'RetryAttemptsExhausted',
  RECORD_AGE_EXCEEDED: 'RecordAgeExceeded',
} as const;
export type FailureCondition = (typeof FAILURE_CONDITION)[keyof typeof FAILURE_CONDITION];

/** What a discarded batch held, in an on-failure invocation record. */
export interface StreamBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly approximateArrivalOfFirstRecord: string;
  readonly approximateArrivalOfLastRecord: string;
  readonly batchSize: number;
  readonly streamArn: string;
}

/** The invocation record Lambda sends to an on-failure destination for a Kinesis batch. */
export interface KinesisFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: FailureCondition;
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError: string;
  };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly KinesisBatchInfo: StreamBatchInfo;
}

/** The same for a DynamoDB-stream batch: the batch is `DDBStreamBatchInfo`. */
export type DynamoDBFailureRecord = Omit<KinesisFailureRecord, 'KinesisBatchInfo'> & {
  readonly DDBStreamBatchInfo: StreamBatchInfo;
};

/** An on-failure invocation record of either stream source. */
export type FailureRecord = KinesisFailureRecord | DynamoDBFailureRecord;

/** The batch an on-failure invocation record describes. */
export function batchInfoOf(record: FailureRecord): StreamBatchInfo {
  return 'KinesisBatchInfo' in record ? record.KinesisBatchInfo : record.DDBStreamBatchInfo;
}

/** Receives discarded batches. */
export interface FailureDestination {
  send(mappingUuid: string, record: FailureRecord, event: KinesisStreamEvent): Promise<void>;
}

/** Per-shard lag for the CLI `status` command. */
export interface ShardLag {
  readonly mappingUuid: string;
  readonly functionName: string;
  readonly shardId: string;
  readonly state: 'waiting-for-parents' | 'polling' | 'ended';
  /** `MillisBehindLatest` of the last GetRecords (the IteratorAge metric). */
  readonly iteratorAgeMs: number;
  /** Records read but not yet done. */
  readonly pendingRecords: number;
  readonly checkpoint?: string;
}
