/** Lambda's defaults and limits for Kinesis event source mappings (CreateEventSourceMapping API). */
export const ESM_DEFAULTS = {
  BATCH_SIZE: 100,
  MAXIMUM_BATCHING_WINDOW_IN_SECONDS: 0,
  PARALLELIZATION_FACTOR: 1,
  MAXIMUM_RETRY_ATTEMPTS: -1,
  MAXIMUM_RECORD_AGE_IN_SECONDS: -1,
  TUMBLING_WINDOW_IN_SECONDS: 0,
  /** Lambda's default function timeout, seconds. */
  FUNCTION_TIMEOUT_SECONDS: 3,
  FUNCTION_MEMORY_MB: 128,
} as const;

export const ESM_LIMITS = {
  BATCH_SIZE: { min: 1, max: 10_000 },
  MAXIMUM_BATCHING_WINDOW_IN_SECONDS: { min: 0, max: 300 },
  PARALLELIZATION_FACTOR: { min: 1, max: 10 },
  MAXIMUM_RETRY_ATTEMPTS: { min: -1, max: 10_000 },
  /** -1 means infinite; otherwise 60–604800. */
  MAXIMUM_RECORD_AGE_IN_SECONDS: { min: 60, max: 604_800 },
  TUMBLING_WINDOW_IN_SECONDS: { min: 0, max: 900 },
  /** Tumbling-window state above this size terminates the window early. */
  MAX_WINDOW_STATE_BYTES: 1024 * 1024,
  /** Lambda's synchronous invocation payload limit. */
  MAX_PAYLOAD_BYTES: 6 * 1024 * 1024,
  /** GetRecords returns at most this many records. */
  GET_RECORDS_LIMIT: 10_000,
} as const;

/** Local runtime timing defaults (AWS polls an idle shard about once a second). */
export const RUNTIME_DEFAULTS = {
  POLL_INTERVAL_MS: 200,
  SHARD_DISCOVERY_INTERVAL_MS: 1_000,
  IDLE_TIMEOUT_MS: 30_000,
  CHECKPOINT_FILE: '.shardflow/checkpoints.json',
  /** Stop reading a shard while this many records are read but not yet done. */
  MAX_BUFFERED_RECORDS: 10_000,
} as const;

/** Values Lambda puts in every Kinesis event record. */
export const KINESIS_EVENT = {
  SCHEMA_VERSION: '1.0',
  EVENT_SOURCE: 'aws:kinesis',
  EVENT_VERSION: '1.0',
  EVENT_NAME: 'aws:kinesis:record',
} as const;

/** A table stream's ARN: `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`. */
export const TABLE_STREAM_ARN = /^arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\/.+/;
