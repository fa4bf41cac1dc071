import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import { Problems } from '../validation';

/**
 * Every setting of the Kinesis → operator event source mapping, with defaults chosen so that a bad
 * batch can neither block a shard for long nor be lost silently.
 */
export interface ShardEventSourceOptions {
  /**
   * Records per invocation, 1–10000. Batches only fill beyond a shard's write rate (1,000 records/s) while
   * the mapping catches up on a backlog; there fewer, larger batches cost less per record (one progress
   * Query and commit, one clean/ object per batch).
   * @default 2000 - bench `e2e` (2 shards, 40,000-record backlog, 3 runs each): 500 → 2,000 drains
   *   10,400 → 12,700 records/s with 74 → 57 µs CPU per record in the mapping and functions.
   */
  readonly batchSize?: number;
  /**
   * How long Lambda gathers records before invoking, 0–300 seconds.
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Where a new mapping starts reading. `AT_TIMESTAMP` needs `startingPositionTimestamp`.
   * @default lambda.StartingPosition.TRIM_HORIZON - nothing retained is skipped
   */
  readonly startingPosition?: lambda.StartingPosition;
  /**
   * Start time in epoch seconds, only with `startingPosition: AT_TIMESTAMP`; 0 or more.
   * @default - none
   */
  readonly startingPositionTimestamp?: number;
  /**
   * Concurrent batches per shard, 1–10. Above 1, batches of one shard can finish out of sequence
   * order, and the operator skips records at or below its shard's last applied sequence number as
   * already applied: a lower batch finishing after a higher one is lost. Keep 1 for exactly-once.
   * @default 1
   */
  readonly parallelizationFactor?: number;
  /**
   * Split a failed batch in two and retry each half (does not use retry attempts).
   * @default true
   */
  readonly bisectBatchOnError?: boolean;
  /**
   * Retries of a failed batch before it goes to the on-failure destination, 0–10000.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Records older than this are sent to the on-failure destination, 1 minute – 7 days.
   * @default Duration.days(1)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Honour `batchItemFailures` returned by the handler so Lambda resumes from the first unapplied record.
   * @default true
   */
  readonly reportBatchItemFailures?: boolean;
  /**
   * Event filter patterns (`lambda.FilterCriteria.filter({...})`); at most 5.
   * @default - every record is delivered
   */
  readonly filters?: ReadonlyArray<Record<string, unknown>>;
  /**
   * Customer-managed key that encrypts the filter criteria (`filters`) Lambda stores; only with `filters`.
   * @default - an AWS-owned key
   */
  readonly filterEncryption?: kms.IKey;
  /**
   * Whether the mapping polls.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Enhanced CloudWatch metrics of the mapping (e.g. `{ metrics: [lambda.MetricType.EVENT_COUNT] }`).
   * @default - none (they are billed)
   */
  readonly metricsConfig?: lambda.MetricsConfig;
}

/** The defaults of {@link ShardEventSourceOptions}, in one place for docs and tests. */
export const SHARD_EVENT_SOURCE_DEFAULTS = {
  batchSize: 2000,
  maxBatchingWindow: Duration.seconds(1),
  startingPosition: lambda.StartingPosition.TRIM_HORIZON,
  parallelizationFactor: 1,
  bisectBatchOnError: true,
  retryAttempts: 10,
  maxRecordAge: Duration.days(1),
  reportBatchItemFailures: true,
  enabled: true,
} as const;

/** Every problem with `options`, each naming the given value; empty when valid. */
export function validateShardEventSourceOptions(options: ShardEventSourceOptions): string[] {
  const atTimestamp = options.startingPosition === lambda.StartingPosition.AT_TIMESTAMP;
  const ts = options.startingPositionTimestamp;
  return [
    ...new Problems()
      .integerRange('Maximum batch size', options.batchSize, 1, 10000)
      .durationRange(
        'Maximum batching window',
        options.maxBatchingWindow,
        Duration.seconds(0),
        Duration.seconds(300),
      )
      .integerRange('Parallelization factor', options.parallelizationFactor, 1, 10)
      .integerRange('Retry attempts', options.retryAttempts, 0, 10000)
      .durationRange('Maximum record age', options.maxRecordAge, Duration.seconds(60), Duration.days(7))
      .check(
        atTimestamp && ts === undefined,
        'startingPositionTimestamp is required when startingPosition is AT_TIMESTAMP',
      )
      .check(
        !atTimestamp && ts !== undefined,
        `startingPositionTimestamp is only allowed when startingPosition is AT_TIMESTAMP (given ${ts})`,
      )
      .check(
        ts !== undefined && !(ts >= 0),
        `startingPositionTimestamp must be 0 or more epoch seconds (given ${ts})`,
      )
      .check(
        (options.filters?.length ?? 0) > 5,
        `At most 5 filters are allowed (given ${options.filters?.length ?? 0})`,
      )
      .check(
        options.filterEncryption !== undefined && (options.filters?.length ?? 0) === 0,
        'filterEncryption encrypts the filter criteria: give filters as well',
      ).all,
  ];
}

/**
 * The mapping settings of an operator's event source, whatever it reads: `options` over the defaults, with
 * `onFailure` as the destination of batches that exhaust their retries or age out.
 */
export function shardEventSourceProps(
  options: ShardEventSourceOptions,
  onFailure: lambda.IEventSourceDlq,
): sources.StreamEventSourceProps {
  const d = SHARD_EVENT_SOURCE_DEFAULTS;
  return {
    batchSize: options.batchSize ?? d.batchSize,
    maxBatchingWindow: options.maxBatchingWindow ?? d.maxBatchingWindow,
    startingPosition: options.startingPosition ?? d.startingPosition,
    parallelizationFactor: options.parallelizationFactor ?? d.parallelizationFactor,
    bisectBatchOnError: options.bisectBatchOnError ?? d.bisectBatchOnError,
    retryAttempts: options.retryAttempts ?? d.retryAttempts,
    maxRecordAge: options.maxRecordAge ?? d.maxRecordAge,
    reportBatchItemFailures: options.reportBatchItemFailures ?? d.reportBatchItemFailures,
    ...(options.filters ? { filters: options.filters.map((f) => ({ ...f })) } : {}),
    ...(options.filterEncryption ? { filterEncryption: options.filterEncryption } : {}),
    enabled: options.enabled ?? d.enabled,
    ...(options.metricsConfig ? { metricsConfig: options.metricsConfig } : {}),
    onFailure,
  };
}

/**
 * Builds the Kinesis event source for an operator function from `options` and the defaults, with
 * `onFailure` as the destination of batches that exhaust their retries or age out.
 */
export function shardEventSource(
  stream: kinesis.IStream,
  options: ShardEventSourceOptions,
  onFailure: lambda.IEventSourceDlq,
): sources.KinesisEventSource {
  return new sources.KinesisEventSource(stream, {
    ...shardEventSourceProps(options, onFailure),
    ...(options.startingPositionTimestamp !== undefined
      ? { startingPositionTimestamp: options.startingPositionTimestamp }
      : {}),
  });
}

/**
 * The tumbling window of a table source's mapping. The records of a DynamoDB stream do not name their shard,
 * and a table of several partitions has several shards open at once whose sequence number ranges overlap,
 * so no range tells a batch's shard; with `TumblingWindowInSeconds` set, Lambda names it in every event
 * (`shardId`), and the operator fences by it (`functions/adapters/tumblingWindowEvent.ts`; Lambda guide,
 * services-ddb-windows). The window plays no other part (the operator keeps no state in it and answers
 * `state: {}`); it is Lambda's maximum, 900 s, because each window ends with one extra invocation per shard
 * (`isFinalInvokeForWindow`, no records): the longest window makes those rarest.
 */
export const TABLE_TUMBLING_WINDOW = Duration.seconds(900);

/**
 * Builds the event source on a table's DynamoDB stream for an operator function, with the same settings as
 * the Kinesis one (`AT_TIMESTAMP` is refused by {@link validateTableEventSourceOptions}: a table's stream has
 * no such iterator), and a tumbling window ({@link TABLE_TUMBLING_WINDOW}) so that every event names its
 * shard.
 */
export function tableEventSource(
  table: dynamodb.ITable,
  options: ShardEventSourceOptions,
  onFailure: lambda.IEventSourceDlq,
): sources.DynamoEventSource {
  return new sources.DynamoEventSource(table, {
    ...shardEventSourceProps(options, onFailure),
    tumblingWindow: TABLE_TUMBLING_WINDOW,
  });
}

/**
 * Every problem with `options` for a table's stream, beyond {@link validateShardEventSourceOptions}.
 *
 * `parallelizationFactor` must be 1: the operator fences a shard's batches in sequence order (the shard the
 * window event names), so concurrent batches of one shard would lose a lower batch finishing after a
 * higher one. Whether Lambda itself refuses a factor above 1 with `TumblingWindowInSeconds`: AWS does not
 * document it (as of 2026-12: the Lambda guide's services-ddb-windows and services-kinesis-windows pages,
 * the CreateEventSourceMapping reference of ParallelizationFactor and BisectBatchOnFunctionError say
 * nothing of it); a third-party report says it does ("when using a tumbling window the parallelization
 * factor must be equal to 1", terraform-aws-modules/terraform-aws-lambda issue #619). Nothing is reported
 * about BisectBatchOnFunctionError with a tumbling window, so it stays allowed.
 */
export function validateTableEventSourceOptions(options: ShardEventSourceOptions): string[] {
  const factor = options.parallelizationFactor;
  return [
    ...new Problems()
      .check(
        options.startingPosition === lambda.StartingPosition.AT_TIMESTAMP,
        'A table source cannot start AT_TIMESTAMP (DynamoDB streams have no such iterator): use TRIM_HORIZON or LATEST',
      )
      .check(
        factor !== undefined && factor !== 1,
        `A table source's mapping reads a shard one batch at a time (given parallelizationFactor ${factor}): its batches are fenced per shard in order, and a lower batch finishing after a higher one would be lost; leave parallelizationFactor at 1`,
      ).all,
  ];
}
