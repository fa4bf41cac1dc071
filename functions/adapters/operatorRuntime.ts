/**
 * Wiring shared by the operator and tick handlers: zod-validated configuration, the pipeline lookup,
 * Powertools logger and metrics (EMF, namespace `shardflow`, dimension `pipeline`), and a
 * `BatchProcessor` over the DynamoDB state store and the S3 results bucket. Built once per Lambda
 * instance, so the state store's warm cache survives between invocations.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { ENV, METRICS } from '../core/constants';
import { BatchProcessor, type BatchResult } from '../core/state/BatchProcessor';
import type { StatefulPipeline, StateStoreStats } from '../core/state/types';
import type { EpochMillis } from '../core/types';
import { pipelines } from '../pipelines';
import { kinesisClient, s3Client } from './aws';
import { countObjects } from './failedBatches';
import { DynamoDBStateStore } from './DynamoDBStateStore';
import { ParquetResultEncoder } from './ParquetResultEncoder';
import { S3ObjectStore } from './S3ObjectStore';
import { listStreamShards, shardParentsLookup } from './streamShards';

/** Names of the metrics the handlers publish. */
export const METRIC = {
  RECORDS_IN: 'RecordsIn',
  REJECTED: METRICS.REJECTED_RECORDS,
  LATE: METRICS.LATE_RECORDS,
  DUPLICATE_EVENTS: METRICS.DUPLICATE_EVENTS,
  STATE_REQUESTS: 'StateRequests',
  CONFLICTS: 'ConditionalCheckConflicts',
  WINDOWS_EMITTED: 'WindowsEmitted',
  WATERMARK_LAG: 'WatermarkLagMs',
  FAILED_BATCHES_PENDING: METRICS.FAILED_BATCHES_PENDING,
} as const;

const configSchema = z.object({
  [ENV.PIPELINE]: z.string().min(1),
  [ENV.STATE_TABLE]: z.string().min(3).max(255),
  [ENV.RESULTS_BUCKET]: z.string().min(3).max(63),
  /** Only the tick needs it (to register shards that have delivered nothing yet). */
  [ENV.STREAM_NAME]: z.string().min(1).max(2048).optional(),
  /** Only the tick needs it (to count skipped batches). */
  [ENV.FAILURE_PREFIX]: z.string().min(1).max(1024).optional(),
});

/** Everything a handler needs, built once at module load. */
export interface OperatorRuntime {
  readonly pipeline: StatefulPipeline;
  readonly processor: BatchProcessor;
  readonly store: DynamoDBStateStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Adds the store's request and conflict counts since `before`, and the watermark lag, to `metrics`. */
  recordStore(before: StateStoreStats, watermark: EpochMillis): void;
  /** Adds a batch's counters to `metrics`. */
  recordBatch(result: BatchResult): void;
  /** Ids of the source stream's open shards (ListShards), or undefined when no stream is configured. */
  listOpenShards(): Promise<string[] | undefined>;
  /**
   * On-failure records of skipped batches not yet replayed, or undefined when no failure prefix is
   * configured.
   */
  countFailedBatches(): Promise<number | undefined>;
}

/**
 * Reads the configuration from `env` and builds the runtime.
 * @throws ZodError naming the missing variable, or Error for an unknown pipeline.
 */
export function createOperatorRuntime(
  service: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): OperatorRuntime {
  const config = configSchema.parse(env);
  const name = config[ENV.PIPELINE];
  const pipeline = pipelines[name];
  if (pipeline === undefined)
    throw new Error(
      `${ENV.PIPELINE} names no shipped pipeline (given ${JSON.stringify(name)}; known: ${Object.keys(pipelines).join(', ')})`,
    );
  const logger = new Logger({ serviceName: service, persistentKeys: { pipeline: name } });
  const metrics = new Metrics({
    namespace: 'shardflow',
    serviceName: service,
    defaultDimensions: { pipeline: name },
  });
  const stream = config[ENV.STREAM_NAME];
  const store = new DynamoDBStateStore({ tableName: config[ENV.STATE_TABLE] });
  const objects = new S3ObjectStore({ bucket: config[ENV.RESULTS_BUCKET] });
  const processor = new BatchProcessor(
    {
      pipeline,
      store,
      objects,
      encoder: new ParquetResultEncoder(),
      clock: { now: () => Date.now() },
    },
    stream !== undefined
      ? { shardParents: shardParentsLookup(() => listStreamShards(kinesisClient(), stream)) }
      : {},
  );
  return {
    pipeline,
    processor,
    store,
    logger,
    metrics,
    recordStore(before, watermark) {
      metrics.addMetric(METRIC.STATE_REQUESTS, MetricUnit.Count, store.stats.requests - before.requests);
      metrics.addMetric(METRIC.CONFLICTS, MetricUnit.Count, store.stats.conflicts - before.conflicts);
      if (Number.isFinite(watermark))
        metrics.addMetric(METRIC.WATERMARK_LAG, MetricUnit.Milliseconds, Math.max(0, Date.now() - watermark));
    },
    async countFailedBatches() {
      const prefix = config[ENV.FAILURE_PREFIX];
      return prefix === undefined ? undefined : countObjects(s3Client(), config[ENV.RESULTS_BUCKET], prefix);
    },
    async listOpenShards() {
      if (stream === undefined) return undefined;
      return (await listStreamShards(kinesisClient(), stream)).filter((s) => s.open).map((s) => s.id);
    },
    recordBatch(result) {
      metrics.addMetric(METRIC.RECORDS_IN, MetricUnit.Count, result.recordsIn);
      metrics.addMetric(METRIC.REJECTED, MetricUnit.Count, result.rejected);
      metrics.addMetric(METRIC.LATE, MetricUnit.Count, result.late);
      metrics.addMetric(METRIC.DUPLICATE_EVENTS, MetricUnit.Count, result.duplicateEvents);
      metrics.addMetric(METRIC.WINDOWS_EMITTED, MetricUnit.Count, result.windowsEmitted);
    },
  };
}
