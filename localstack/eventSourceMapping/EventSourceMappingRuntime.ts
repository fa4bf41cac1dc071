import { dynamoDbStreamsClient, kinesisClient } from '../../functions/adapters/aws';
import { FileCheckpointStore } from './FileCheckpointStore';
import { MappingRunner } from './MappingRunner';
import { SdkDynamoDBStreamReader } from './SdkDynamoDBStreamReader';
import { SdkKinesisReader } from './SdkKinesisReader';
import { isTableStream } from './streamEvent';
import { WorkerInvoker } from './WorkerInvoker';
import { RUNTIME_DEFAULTS } from './constants';
import { IdleTimeoutError, UnknownFunctionError } from './errors';
import type {
  CheckpointStore,
  EventSourceMappingConfig,
  FailureDestination,
  FunctionDefinition,
  InvocationHooks,
  Invoker,
  KinesisReader,
  ShardLag,
} from './types';
import { resolveMappingConfig } from './validateConfig';

/** Options of the local event-source-mapping runtime. Clients and time are injected for tests. */
export interface EventSourceMappingRuntimeOptions {
  readonly mappings: readonly EventSourceMappingConfig[];
  readonly functions: readonly FunctionDefinition[];
  /** Kinesis read port. @default `new SdkKinesisReader(kinesisClient())` (the shared client factory) */
  readonly kinesis?: KinesisReader;
  /**
   * The same port over tables' DynamoDB streams, for mappings whose source is one.
   * @default `new SdkDynamoDBStreamReader(dynamoDbStreamsClient())`
   */
  readonly dynamoDbStreams?: KinesisReader;
  /** Runs the functions. @default `new WorkerInvoker()` */
  readonly invoker?: Invoker;
  /** @default `new FileCheckpointStore('.shardflow/checkpoints.json')` (survives restarts) */
  readonly checkpoints?: CheckpointStore;
  /** Resolves an on-failure destination ARN to a sender; unresolved ARNs are logged and skipped. */
  readonly failureDestination?: (arn: string) => FailureDestination | undefined;
  readonly hooks?: InvocationHooks;
  /** Epoch milliseconds, for record age. @default Date.now */
  readonly now?: () => number;
  /** Wait after an empty GetRecords. @default 200 */
  readonly pollIntervalMs?: number;
  /** How often ListShards runs to find new shards. @default 1000 */
  readonly shardDiscoveryIntervalMs?: number;
  /** First retry delay, doubled on each retry up to 10 s. @default 100 */
  readonly retryBackoffMs?: number;
  /** @default 10000 */
  readonly maxBufferedRecords?: number;
  readonly log?: (message: string) => void;
}

/**
 * Polls every mapped Kinesis stream (and table stream) and invokes the mapped functions with Lambda's semantics.
 *
 * @example
 * const runtime = new EventSourceMappingRuntime({ mappings, functions, kinesis, invoker, checkpoints });
 * await runtime.start();
 * await putRecords();
 * await runtime.idle(); // every shard caught up, nothing in flight
 * await runtime.stop();
 */
export class EventSourceMappingRuntime {
  private readonly runners: MappingRunner[];
  private readonly invoker: Invoker;
  private counter = 0;
  /** Invocations finished so far (see idle()). */
  private invocations = 0;
  private started = false;

  public constructor(options: EventSourceMappingRuntimeOptions) {
    const functions = new Map(options.functions.map((fn) => [fn.functionName, fn]));
    for (const fn of options.functions) functions.set(fn.functionArn, fn);
    const log = options.log ?? ((message: string) => console.warn(`[esm] ${message}`));
    // Made on first use: a runtime without table mappings never loads the DynamoDB Streams client.
    let kinesis = options.kinesis;
    let tables = options.dynamoDbStreams;
    const readerOf = (arn: string): KinesisReader =>
      isTableStream(arn)
        ? (tables ??= new SdkDynamoDBStreamReader(dynamoDbStreamsClient()))
        : (kinesis ??= new SdkKinesisReader(kinesisClient()));
    const invoker = options.invoker ?? new WorkerInvoker();
    // Counts finished invocations for idle(): one mapping's function can put records on another's stream.
    this.invoker = {
      invoke: (request) => invoker.invoke(request).finally(() => this.invocations++),
      close: () => invoker.close(),
    };
    const checkpoints = options.checkpoints ?? new FileCheckpointStore(RUNTIME_DEFAULTS.CHECKPOINT_FILE);
    this.runners = options.mappings
      .map((mapping) => resolveMappingConfig(mapping))
      .filter((config) => config.enabled)
      .map((config) => {
        const fn = functions.get(config.functionName);
        if (fn === undefined)
          throw new UnknownFunctionError(
            `mapping ${config.uuid} targets unknown function ${config.functionName}`,
          );
        const destinationArn = config.onFailureDestination;
        const destination =
          destinationArn === undefined ? undefined : options.failureDestination?.(destinationArn);
        if (destinationArn !== undefined && destination === undefined)
          log(`mapping ${config.uuid}: no sender for on-failure destination ${destinationArn}`);
        return new MappingRunner({
          config,
          fn,
          reader: readerOf(config.eventSourceArn),
          invoker: this.invoker,
          checkpoints,
          ...(destination === undefined ? {} : { destination }),
          ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
          now: options.now ?? Date.now,
          pollIntervalMs: options.pollIntervalMs ?? RUNTIME_DEFAULTS.POLL_INTERVAL_MS,
          shardDiscoveryIntervalMs:
            options.shardDiscoveryIntervalMs ?? RUNTIME_DEFAULTS.SHARD_DISCOVERY_INTERVAL_MS,
          retryBackoffMs: options.retryBackoffMs ?? 100,
          maxBufferedRecords: options.maxBufferedRecords ?? RUNTIME_DEFAULTS.MAX_BUFFERED_RECORDS,
          tick: () => ++this.counter,
          onActivity: () => undefined,
          log,
        });
      });
  }

  /** Whether the mappings are polling (between `start()` and `stop()`). */
  public get running(): boolean {
    return this.started;
  }

  public async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all(this.runners.map((runner) => runner.start()));
  }

  /** Stops polling, waits for in-flight invocations, then releases the invoker's warm instances. */
  public async stop(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
    await this.invoker.close();
    this.started = false;
  }

  /**
   * Resolves once every shard has been polled after the last invocation finished and found caught up, no
   * record is buffered and no invocation is in flight: also when one mapping's function puts records on
   * another mapping's stream (a two-stage pipeline), the downstream shards were read after the last put.
   * Invocations made outside the mappings (scheduled ticks through the same invoker) are not waited for.
   * Tests and bounded runs call it instead of sleeping.
   *
   * @throws IdleTimeoutError listing the busy shards when `timeoutMs` passes first
   */
  public async idle(timeoutMs: number = RUNTIME_DEFAULTS.IDLE_TIMEOUT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const finished = this.invocations;
      const mark = ++this.counter;
      for (const runner of this.runners) runner.nudge();
      while (!this.runners.every((runner) => runner.isQuietSince(mark))) {
        if (performance.now() > deadline) {
          const busy = this.lag()
            .filter((l) => l.state !== 'ended')
            .map((l) => `${l.shardId} (${l.state}, ${l.pendingRecords} pending)`);
          throw new IdleTimeoutError(
            `event source mappings not idle after ${timeoutMs} ms: ${busy.join(', ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // An invocation that finished during this round may have put records a shard's poll had passed.
      if (this.invocations === finished) return;
    }
  }

  /** Per-shard lag of every mapping (for `shardflow local status`). */
  public lag(): ShardLag[] {
    return this.runners.flatMap((runner) => runner.lag());
  }
}
