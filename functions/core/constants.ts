/**
 * Names shared by the CDK stack, the Lambda handlers and the local cloud. One definition, so that the
 * table the stack creates is the table the handler writes, wherever it runs.
 */

/** Environment variables the stack sets on operator and tick functions. */
export const ENV = {
  /** Name of the pipeline (from `functions/pipelines/index.ts`) this function runs. */
  PIPELINE: 'SHARDFLOW_PIPELINE',
  STATE_TABLE: 'SHARDFLOW_STATE_TABLE',
  RESULTS_BUCKET: 'SHARDFLOW_RESULTS_BUCKET',
  /** ARN/name of the source stream (the tick handler lists its shards). */
  STREAM_NAME: 'SHARDFLOW_STREAM_NAME',
  /**
   * Key prefix of the operator mapping's on-failure records in the results bucket
   * (`aws/lambda/<mapping-uuid>/`): the tick counts them as `FailedBatchesPending`.
   */
  FAILURE_PREFIX: 'SHARDFLOW_FAILURE_PREFIX',
  /**
   * The operator function's timeout in milliseconds: side outputs are swept that long (and a minute) behind a
   * shard's commits, when no attempt that began before them can still be writing (`outputSweep.ts`).
   */
  OPERATOR_TIMEOUT_MS: 'SHARDFLOW_OPERATOR_TIMEOUT_MS',
  /** Name or ARN of the stream the operator publishes to (`.toStream()`); only pipelines that publish have it. */
  PUBLISH_STREAM: 'SHARDFLOW_PUBLISH_STREAM',
} as const;

/** DynamoDB state table layout (one table for shard progress items and commit segments; no index). */
export const STATE_TABLE = {
  PARTITION_KEY: 'pk',
  SORT_KEY: 'sk',
  TTL_ATTRIBUTE: 'ttl',
} as const;

/**
 * Width of zero-padded sequence numbers. Real Kinesis (and kinesis-mock) sequence numbers are 56-digit
 * decimal strings (about 185 bits, e.g. `49590338271490256608559692538361571095921575989136588898`), more
 * than the 39 digits of 2^128, so 64 digits leaves headroom.
 */
export const SEQUENCE_NUMBER_WIDTH = 64;

/** Key prefixes in the results bucket (DESIGN.md §5). */
export const BUCKET_PREFIX = {
  RESULTS: 'results/',
  CLEAN: 'clean/',
  /** Input records a pipeline rejected (`rejected/<stream>/`): one line per record, with its shard and sequence. */
  REJECTED: 'rejected/',
  /**
   * Result rows of `.sink({ toStream })` no stream record can carry (`rejected-results/<table>/`): a prefix of
   * their own, so nothing that reads `rejected/` counts a result row as a rejected input record, and the grant
   * to write them names one table's result dead letters only, never a stream's or table's rejected records.
   */
  REJECTED_RESULTS: 'rejected-results/',
  LATE: 'late/',
  /** On-failure destination objects written for batches that exhausted their retries. */
  FAILED_BATCHES: 'failed-batches/',
} as const;

/** Fixed result columns that precede the aggregates in every result table. */
export const WINDOW_COLUMNS = { START: 'window_start', END: 'window_end' } as const;

/**
 * Last column of every result table: the aggregate columns (comma-separated, in column order) that started
 * from their identity while the row's window was open, because a deploy added them (an evolvable change,
 * `state/stateFingerprint.ts`); null when every column saw the whole window.
 */
export const EVOLVED_COLUMN = 'evolved_columns';

/** Hive partition columns of result tables. */
export const PARTITION_COLUMNS = ['dt', 'hour'] as const;

/** Glue database of the result tables unless the stack names another (SQL names tables `"shardflow"."<table>"`). */
export const DEFAULT_GLUE_DATABASE = 'shardflow';

/**
 * CloudWatch (Powertools EMF) names the handlers publish and the CDK stack's alarms and dashboard read.
 * Powertools adds a `service` dimension to every metric, so an alarm must name both dimensions.
 */
export const METRICS = {
  NAMESPACE: 'shardflow',
  RECORDS_IN: 'RecordsIn',
  REJECTED_RECORDS: 'RejectedRecords',
  LATE_RECORDS: 'LateRecords',
  DUPLICATE_EVENTS: 'DuplicateEvents',
  /**
   * On-failure records of batches Lambda skipped after their retries, not yet replayed
   * (`shardflow replay-failures`): a gauge the tick publishes; its alarm fires at 1.
   */
  FAILED_BATCHES_PENDING: 'FailedBatchesPending',
  /** State store requests of one invocation. */
  STATE_REQUESTS: 'StateRequests',
  /** Conditional writes that lost to another writer in one invocation. */
  CONFLICTS: 'ConditionalCheckConflicts',
  WINDOWS_EMITTED: 'WindowsEmitted',
  /** Records put to the pipeline's downstream stream (`.toStream()`), copies a redelivery puts again included. */
  PUBLISHED_RECORDS: 'PublishedRecords',
  /**
   * Invocations whose publish to the downstream stream failed after its retries (`PublishError`): the
   * operator's batch is redelivered, the tick's close pass runs again at the next tick; its alarm (on the
   * operator's and the tick's counts) fires at 1.
   */
  PUBLISH_FAILURES: 'PublishFailures',
  /**
   * Result rows a close pass dead-lettered to `rejected-results/<table>/` because no stream record can carry
   * them (over 1 MiB: `.sink({ toStream })`), counted once its publish of the other rows succeeded; a pass run
   * again after that counts its rows again. Its alarm fires at 1.
   */
  RESULTS_DEAD_LETTERED: 'ResultsDeadLettered',
  /**
   * Close passes that refused stored state of a shape the running definition cannot read
   * (`IncompatibleStateError`): its windows wait until the pipeline is drained or they are discarded.
   */
  INCOMPATIBLE_STATE: 'IncompatibleStateRefused',
  /** Now − pipeline watermark after a batch. */
  WATERMARK_LAG: 'WatermarkLagMs',
  PIPELINE_DIMENSION: 'pipeline',
  SERVICE_DIMENSION: 'service',
} as const;

/**
 * Powertools service names of the handlers: the `service` dimension of their metrics and logs. The handlers
 * name themselves with these and the constructs set them (`POWERTOOLS_SERVICE_NAME`, the alarms' dimension).
 */
export const SERVICE_NAMES = {
  OPERATOR: 'shardflow-operator',
  TICK: 'shardflow-tick',
  UPGRADE_CHECK: 'shardflow-upgrade-check',
} as const;
