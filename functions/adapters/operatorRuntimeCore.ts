/**
 * Wiring shared by the operator and tick handlers: zod-validated configuration, the pipeline lookup,
 * Powertools logger and metrics (EMF, namespace `shardflow`, dimension `pipeline`), and a
 * `BatchProcessor` over the DynamoDB state store and the S3 results bucket. Built once per Lambda
 * instance, so the state store's warm cache survives between invocations.
 *
 * What only some pipelines use (a table's stream, publishing to a stream) comes in as injected parts
 * (`runtimeParts.ts`), so this module imports neither: a generated entry passes its pipeline's parts, and
 * `createOperatorRuntime` (`operatorRuntime.ts`) all of them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod/mini';
import { ENV, METRICS } from '../core/constants';
import { publishStreamOf } from '../core/engine/streamTap';
import { BatchProcessor, type BatchResult } from '../core/state/BatchProcessor';
import { rejectedResultsPrefix } from '../core/state/paths';
import type { StatefulPipeline, StateStoreStats } from '../core/state/types';
import type { EpochMillis, RawRecord } from '../core/types';
import { s3Client } from './aws';
import { countObjects } from './failedBatches';
import { DynamoDBStateStore } from './DynamoDBStateStore';
import { ParquetResultEncoder } from './ParquetResultEncoder';
import { S3ObjectStore } from './S3ObjectStore';
import { ShardflowError } from '../core/errors';
import { IncompatibleStateError, PublishError } from '../core/state/errors';
import type { StreamPublisher } from '../core/state/streamPublisher';
import { runtimePartsOf, type PublisherPart, type RuntimeParts } from './runtimeParts';

/** Writes still in flight when an invocation times out: the sweep lag's margin over the timeout. */
const SWEEP_SLACK_MS = 60_000;

const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));

const configSchema = z.object({
  /** The deployed pipeline's name: must be the bundled pipeline's (a guard against a mixed-up deploy). */
  [ENV.PIPELINE]: z.optional(text(1, 64)),
  [ENV.STATE_TABLE]: text(3, 255),
  [ENV.RESULTS_BUCKET]: text(3, 63),
  /** Only the tick needs it (to register shards that have delivered nothing yet). */
  [ENV.STREAM_NAME]: z.optional(text(1, 2048)),
  /** Only the tick needs it (to count skipped batches). */
  [ENV.FAILURE_PREFIX]: z.optional(text(1, 1024)),
  /** Lambda's limits: 1 second to 15 minutes. Absent: the sweep waits out the longest timeout there is. */
  /** Only a pipeline that publishes (`.toStream()`) has it: the stream's name (or ARN). */
  [ENV.PUBLISH_STREAM]: z.optional(text(1, 2048)),
  [ENV.OPERATOR_TIMEOUT_MS]: z.optional(
    z.coerce.number().check(z.gte(1_000), z.lte(900_000), z.multipleOf(1)),
  ),
});

/** The configuration is missing or invalid: names the variable and what it must be. */
export class RuntimeConfigError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RuntimeConfigError';
  }
}

function readConfig(env: Readonly<Record<string, string | undefined>>): z.infer<typeof configSchema> {
  const parsed = z.safeParse(configSchema, env);
  if (parsed.success) return parsed.data;
  throw new RuntimeConfigError(
    `Invalid function configuration: ${parsed.error.issues
      .map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`)
      .join('; ')}`,
    { cause: parsed.error },
  );
}

/** Everything a handler needs, built once at module load. */
export interface OperatorRuntime {
  readonly pipeline: StatefulPipeline;
  readonly processor: BatchProcessor;
  readonly store: DynamoDBStateStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Adds the store's request and conflict counts since `before`, and the watermark lag, to `metrics`. */
  recordStore(before: StateStoreStats, watermark: EpochMillis): void;
  /**
   * Adds the result rows dead-lettered since `before` (`processor.resultsDeadLettered`) to `metrics` as
   * `ResultsDeadLettered`, and warns when there are any; nothing for a pipeline that publishes no results.
   */
  recordDeadLetters(before: number): void;
  /** Adds a batch's counters to `metrics`. */
  recordBatch(result: BatchResult): void;
  /** Counts and logs a publish to the downstream stream that failed (`PublishError` in `error`'s causes); false when not one. */
  recordPublishFailure(error: unknown): boolean;
  /**
   * Counts and logs a close pass that refused state of another shape (`IncompatibleStateError` anywhere in
   * `error`'s causes); false when `error` is not one.
   */
  recordRefusal(error: unknown): boolean;
  /**
   * The records of an event of the pipeline's source: a Kinesis event, or for a table source a
   * DynamoDB-stream event (its shard the one the event names, else found with DescribeStream).
   */
  decode(event: unknown): Promise<RawRecord[]>;
  /** Ids of the source stream's open shards (ListShards), or undefined when no stream is configured. */
  listOpenShards(): Promise<string[] | undefined>;
  /**
   * On-failure records of skipped batches not yet replayed, or undefined when no failure prefix is
   * configured.
   */
  countFailedBatches(): Promise<number | undefined>;
}

/**
 * Reads the configuration from `env` and builds the runtime of `pipeline` (the one bundled with the handler)
 * with `parts`: its source's reader and, when it publishes to a stream, the publisher.
 * @throws RuntimeConfigError naming the missing or invalid variable, a `SHARDFLOW_PIPELINE` that is not
 * the bundled pipeline's name, or a part the pipeline needs that `parts` lacks.
 */
export function assembleOperatorRuntime(
  service: string,
  pipeline: StatefulPipeline,
  parts: RuntimeParts,
  env: Readonly<Record<string, string | undefined>> = process.env,
): OperatorRuntime {
  const config = readConfig(env);
  const name = pipeline.spec.name;
  const configured = config[ENV.PIPELINE];
  if (configured !== undefined && configured !== name)
    throw new RuntimeConfigError(
      `${ENV.PIPELINE} is ${JSON.stringify(configured)} but this function's bundle holds pipeline ${JSON.stringify(name)}: deploy the bundle built for ${JSON.stringify(configured)}`,
    );
  checkParts(pipeline, parts);
  const logger = new Logger({ serviceName: service, persistentKeys: { pipeline: name } });
  const metrics = new Metrics({
    namespace: METRICS.NAMESPACE,
    serviceName: service,
    defaultDimensions: { [METRICS.PIPELINE_DIMENSION]: name },
  });
  const stream = config[ENV.STREAM_NAME];
  const timeoutMs = config[ENV.OPERATOR_TIMEOUT_MS];
  const store = new DynamoDBStateStore({ tableName: config[ENV.STATE_TABLE] });
  // Records (`.toStream()`) or result rows (`.sink({ toStream })`): one stream, under one variable.
  const publishes = publishStreamOf(pipeline.spec);
  const publishTo = publishes === undefined ? undefined : config[ENV.PUBLISH_STREAM];
  if (publishes !== undefined && publishTo === undefined)
    throw new RuntimeConfigError(
      `${ENV.PUBLISH_STREAM} is not set but pipeline ${name} publishes to stream ${publishes}: deploy it with ShardflowPipeline, which sets it`,
    );
  const publisher =
    publishTo === undefined ? undefined : publisherFor(parts.publisher!, publishTo, publishes!);
  const objects = new S3ObjectStore({ bucket: config[ENV.RESULTS_BUCKET] });
  const source = parts.source.open(pipeline.spec, stream);
  const processor = new BatchProcessor(
    {
      pipeline,
      store,
      objects,
      encoder: new ParquetResultEncoder(),
      clock: { now: () => Date.now() },
      ...(publisher === undefined
        ? {}
        : pipeline.spec.publish !== undefined
          ? { publisher }
          : { resultPublisher: publisher }),
    },
    {
      ...(source.shardParents === undefined ? {} : { shardParents: source.shardParents }),
      ...(timeoutMs !== undefined ? { sweepLagMs: timeoutMs + SWEEP_SLACK_MS } : {}),
    },
  );
  return {
    pipeline,
    processor,
    store,
    logger,
    metrics,
    recordStore(before, watermark) {
      metrics.addMetric(METRICS.STATE_REQUESTS, MetricUnit.Count, store.stats.requests - before.requests);
      metrics.addMetric(METRICS.CONFLICTS, MetricUnit.Count, store.stats.conflicts - before.conflicts);
      if (Number.isFinite(watermark))
        metrics.addMetric(
          METRICS.WATERMARK_LAG,
          MetricUnit.Milliseconds,
          Math.max(0, Date.now() - watermark),
        );
    },
    async countFailedBatches() {
      const prefix = config[ENV.FAILURE_PREFIX];
      return prefix === undefined ? undefined : countObjects(s3Client(), config[ENV.RESULTS_BUCKET], prefix);
    },
    decode: (event) => source.decode(event),
    async listOpenShards() {
      if (source.listShards === undefined) return undefined;
      const shards = await source.listShards();
      return shards.filter((s) => s.open).map((s) => s.id);
    },
    recordRefusal(error) {
      let found: unknown = error;
      while (found instanceof Error && !(found instanceof IncompatibleStateError)) found = found.cause;
      if (!(found instanceof IncompatibleStateError)) return false;
      metrics.addMetric(METRICS.INCOMPATIBLE_STATE, MetricUnit.Count, 1);
      logger.error(found.message, { code: found.code, shardId: found.shardId, commit: found.commit });
      return true;
    },
    recordDeadLetters(before) {
      const sink = pipeline.spec.sink;
      if (sink?.toStream === undefined) return;
      const letters = processor.resultsDeadLettered - before;
      metrics.addMetric(METRICS.RESULTS_DEAD_LETTERED, MetricUnit.Count, letters);
      if (letters > 0)
        logger.warn(
          `${letters} result rows were over the Kinesis record limit and went to ${rejectedResultsPrefix(sink.table)} instead of stream ${sink.toStream}; their rows are in the table`,
          { resultsDeadLettered: letters },
        );
    },
    recordPublishFailure(error) {
      let found: unknown = error;
      while (found instanceof Error && !(found instanceof PublishError)) found = found.cause;
      if (!(found instanceof PublishError)) return false;
      metrics.addMetric(METRICS.PUBLISH_FAILURES, MetricUnit.Count, 1);
      logger.error(found.message, { code: found.code });
      return true;
    },
    recordBatch(result) {
      // Only a pipeline that publishes has the figure (a zero from every other operator was noise).
      if (publisher !== undefined)
        metrics.addMetric(METRICS.PUBLISHED_RECORDS, MetricUnit.Count, result.published);
      metrics.addMetric(METRICS.RECORDS_IN, MetricUnit.Count, result.recordsIn);
      metrics.addMetric(METRICS.REJECTED_RECORDS, MetricUnit.Count, result.rejected);
      metrics.addMetric(METRICS.LATE_RECORDS, MetricUnit.Count, result.late);
      metrics.addMetric(METRICS.DUPLICATE_EVENTS, MetricUnit.Count, result.duplicateEvents);
      metrics.addMetric(METRICS.WINDOWS_EMITTED, MetricUnit.Count, result.windowsEmitted);
    },
  };
}

/**
 * The publisher of `.toStream()`: puts to the deployed stream `target` (a name or ARN), under the pipeline's
 * own stream name (the check that the deployment gives the stream the pipeline publishes to).
 */
function publisherFor(
  part: PublisherPart,
  target: string,
  stream: string,
): Pick<StreamPublisher, 'stream' | 'publish'> {
  const deployed = target.startsWith('arn:') ? target.slice(target.lastIndexOf('/') + 1) : target;
  if (deployed !== stream)
    throw new RuntimeConfigError(
      `${ENV.PUBLISH_STREAM} is ${JSON.stringify(target)} but the pipeline publishes to stream ${JSON.stringify(stream)}: deploy the bundle with its own stream`,
    );
  const publisher = part(target);
  return { stream, publish: (entries) => publisher.publish(entries) };
}

/**
 * `parts` holds what `pipeline` needs (`runtimePartsOf`): a reader of its kind of source, and a publisher
 * when it publishes.
 * @throws RuntimeConfigError naming the part and the entry to regenerate.
 */
function checkParts(pipeline: StatefulPipeline, parts: RuntimeParts): void {
  const { name } = pipeline.spec;
  const needed = runtimePartsOf(pipeline.spec);
  const wrong =
    parts.source.name !== needed.source
      ? `source part ${parts.source.name}, but pipeline ${name} needs ${needed.source}`
      : needed.publisher !== undefined && parts.publisher === undefined
        ? `no ${needed.publisher}, but pipeline ${name} publishes to stream ${publishStreamOf(pipeline.spec)}`
        : undefined;
  if (wrong !== undefined)
    throw new RuntimeConfigError(
      `This function was built with ${wrong}: build its entry with pipelineEntries (it passes ${[needed.source, needed.publisher].filter(Boolean).join(' and ')})`,
    );
}
