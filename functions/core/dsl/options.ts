/** The options each step of the pipeline DSL (`pipeline.ts`) takes. */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Duration } from '../duration';
import type { StreamViewType } from '../tableChange';
import type { EpochMillis } from '../types';

/** Options of `.source()`. */
export interface SourceOptions {
  /** Kinesis stream name: 1..128 characters of `[a-zA-Z0-9_.-]`. */
  readonly stream: string;
  /** Provisioned shard count, 1..1000; omit for on-demand. */
  readonly shards?: number;
}

/** Options of `.fromTable()`. */
export interface TableSourceOptions {
  /**
   * The table's stream view type (what each change carries). A change that lacks an image its view
   * carries goes to `rejected/` (`INVALID_CHANGE_RECORD`).
   * @default 'NEW_AND_OLD_IMAGES'
   */
  readonly view?: StreamViewType;
}

/** Options of `.clean()`. */
export interface CleanOptions<S extends StandardSchemaV1> {
  /**
   * Schema every record must satisfy, from any Standard Schema library (zod, zod/mini, valibot, arktype…);
   * its output type is the pipeline's value type. Validation must be synchronous. Its first issue's path and
   * message become the `rejected/` reason. A zod 4 schema of the common shapes (plain objects of strings,
   * numbers, booleans, enums, literals; `engine/schemaFastPath.ts`) is compiled by the engine for valid
   * records; for one it does not model (transforms, refinements, unions…), `z.compile(schema)` (zod ≥ 4.4)
   * gives zod's own generated path, at ~29 KB of operator bundle. Invalid records keep zod's messages.
   */
  readonly schema: S;
  /** Event time (epoch ms) of a valid record. */
  readonly eventTime: (value: StandardSchemaV1.InferOutput<S>) => EpochMillis;
  /** Optional id for de-duplication of producer retries (same id → counted once per window). */
  readonly dedupeBy?: (value: StandardSchemaV1.InferOutput<S>) => string;
}

/**
 * How a pipeline's shards are timed: `.window()`'s options, or `.toStream()`'s when it ends the definition
 * (a publish-only pipeline has no `.window()`).
 */
export interface ShardTimeOptions {
  /**
   * A shard without records for this long (processing time) stops holding the watermark back.
   * @default '1m'
   */
  readonly idleTimeout?: Duration;
  /**
   * How far a record's event time may be ahead of its arrival in the stream. A record further ahead goes
   * to `rejected/` (`EVENT_TIME_AHEAD`) and moves no watermark, so one producer's fast clock cannot close
   * everyone's windows. Between 0 and 1 day.
   * @default '5m'
   */
  readonly maxEventTimeAhead?: Duration;
}

/**
 * Options of `.toStream()`. `idleTimeout` and `maxEventTimeAhead` only when it ends the definition
 * (publish-only); a pipeline that goes on to `.keyBy()` sets them in `.window()`'s options.
 */
export interface ToStreamOptions<T> extends ShardTimeOptions {
  /**
   * The Kinesis partition key of each published value: 1..256 characters. It picks the downstream shard, and
   * the downstream `dedupeBy` reaches over one shard: a deterministic function of the value sends a
   * republished copy to the shard that holds its first copy.
   */
  readonly partitionKey: (value: T) => string;
}

/** `WindowOptions.idleTimeout` when not given (and a publish-only pipeline's). */
export const DEFAULT_IDLE_TIMEOUT = '1m';
/** `WindowOptions.maxEventTimeAhead` when not given (and a publish-only pipeline's). */
export const DEFAULT_MAX_EVENT_TIME_AHEAD = '5m';

/** Options of `.window()` (DESIGN.md §2). */
export interface WindowOptions extends ShardTimeOptions {
  /** How long after a window's end (in watermark time) late records are still merged. */
  readonly allowedLateness: Duration;
  /** Per-shard watermark = max event time − maxOutOfOrderness. */
  readonly maxOutOfOrderness: Duration;
}

/** Options of `.sink()`. */
export interface SinkOptions {
  /** Result table name: a lower-case SQL identifier, 1..128 characters. */
  readonly table: string;
  /**
   * Also publishes each result row to this Kinesis stream, which another pipeline reads as its source (a
   * minute rollup feeding an hour rollup). Each record is the JSON `{ id, time, value }`: `value` is the row,
   * `time` its window start, `id` is `<table>/<window start>/<key>` (deterministic), under the row's key as
   * partition key. Rows are published by the close pass after their object is written, at least once; the
   * downstream `dedupeBy: (r) => r.id` counts each row once. A pipeline has one publish stream: this or
   * `.toStream()`, not both.
   */
  readonly toStream?: string;
}
