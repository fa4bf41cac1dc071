/**
 * The real CDK app synthesized, deployed on the embedded local cloud by the local deployer, with the
 * page-activity operator's event source mapping runnable on demand (so a bench can pre-load a backlog and
 * then time its drain) over one warm `WorkerInvoker` and shared checkpoints. While the mapping runs, the
 * stack's `rate(...)` schedules (the tick that raises idle shards' close marks) fire as under `shardflow
 * start`: without them a shard that drains first holds every window open until the end of the run. Used by
 * the e2e bench part and the load test.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ListShardsCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ENV } from '../../functions/core/constants';
import type { PipelineSpec } from '../../functions/core/types';
import type { KinesisEmulatorKind } from '../../localstack/emulators';
import {
  Deployer,
  failureDestinations,
  planDeployment,
  readStackArtifact,
  ScheduleRunner,
  type Deployment,
} from '../../localstack/deployer';
import { LOCAL_REGION } from '../../localstack/emulators/constants';
import {
  EventSourceMappingRuntime,
  MemoryCheckpointStore,
  SdkKinesisReader,
  WorkerInvoker,
  type InvocationHooks,
} from '../../localstack/eventSourceMapping';
import { endpointEnvironment } from '../../localstack/emulators/endpointEnvironment';
import { synthesize } from '../../localstack/start/synthesize';
import { startBenchCloud, type BenchCloud } from './benchCloud';

const ROOT = join(__dirname, '../..');

/** A deployed stack whose operator mapping runs only between `startMapping` and `stopMapping`. */
export interface DeployedStack {
  readonly bench: BenchCloud;
  readonly deployment: Deployment;
  readonly streamName: string;
  readonly bucket: string;
  readonly stateTable: string;
  /** BatchSize of the operator's event source mapping. */
  readonly batchSize: number;
  readonly synthMs: number;
  /** Records acknowledged by successful invocations without item failures, since deploy. */
  processed(): number;
  /** `performance.now()` when the last such invocation ended (NaN before the first). */
  lastProcessedAt(): number;
  /** Failed invocations and item-failure responses, since deploy. */
  failures(): number;
  /** Workers started so far (each a cold start), over every run of the mapping. */
  coldStarts(): number;
  /**
   * Starts a runtime for the pipeline's mapping, resuming from the shared checkpoints, on a fresh invoker
   * whose workers are warmed by an empty event first; or, with `reuseWorkers`, on the workers the last
   * runtime left (a stopped runtime's workers stay up until the next fresh start or `stop`).
   */
  startMapping(options?: {
    /** Keep the workers (and their JIT-compiled code) of the last run instead of starting fresh ones. */
    readonly reuseWorkers?: boolean;
    readonly pollIntervalMs?: number;
    readonly onWarm?: () => void;
    readonly log?: (line: string) => void;
    /** Read-ahead bound per shard (`EventSourceMappingRuntime` `maxBufferedRecords`). @default 10000 */
    readonly maxBufferedRecords?: number;
    /** Divides the schedules' periods; `shardflow start` uses 12 (the one-minute tick every 5 s). @default 12 */
    readonly tickSpeedup?: number;
  }): Promise<EventSourceMappingRuntime>;
  stopMapping(): Promise<void>;
  /** A state store on the deployed table (for reading progress). */
  stateStore(): DynamoDBStateStore;
  /** Removes everything: runtime, warm workers, cloud, synthesized assembly. */
  stop(): Promise<void>;
}

/**
 * Synthesizes the app (`cdk synth`, offline, real bundles) unless `templatePath` is given, starts the
 * cloud and deploys the stack.
 */
export async function deployStack(
  spec: PipelineSpec,
  options: {
    readonly templatePath?: string;
    readonly hooks?: InvocationHooks;
    /** @default 'kinesis-mock' */
    readonly kinesisEmulator?: KinesisEmulatorKind;
    /** Receives the emulators' output lines. @default none */
    readonly log?: (line: string) => void;
  } = {},
): Promise<DeployedStack> {
  const scratch = join(ROOT, '.shardflow');
  mkdirSync(scratch, { recursive: true });
  let assembly: string | undefined;
  let templatePath = options.templatePath;
  const synthStarted = performance.now();
  if (templatePath === undefined) {
    // Inside the project: the bundles leave the AWS SDK external and resolve it from node_modules.
    assembly = mkdtempSync(join(scratch, 'bench-cdk.out-'));
    templatePath = await synthesize(assembly, ROOT);
  }
  const synthMs = Math.round(performance.now() - synthStarted);
  const bench = await startBenchCloud({
    ...(options.kinesisEmulator === undefined ? {} : { kinesisEmulator: options.kinesisEmulator }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  let runtime: EventSourceMappingRuntime | undefined;
  let schedules: ScheduleRunner | undefined;
  const newInvoker = (): WorkerInvoker =>
    new WorkerInvoker({
      inheritOutput: false,
      environment: {
        ...bench.env,
        // As the local deployer runs them: each service on its emulator, not through the edge.
        ...endpointEnvironment(bench.cloud),
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'WARN',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
  let invoker = newInvoker();
  /** Workers started by the invokers closed so far. */
  let startedWorkers = 0;
  try {
    const artifact = readStackArtifact(templatePath);
    const plan = planDeployment(
      artifact.template,
      { stackName: artifact.stackName, sqsBaseUrl: bench.cloud.endpoint },
      artifact.locateAsset,
    );
    const clients = bench.clients();
    const deployment = await new Deployer({
      kinesis: clients.kinesis,
      dynamoDb: clients.dynamoDb,
      s3: clients.s3,
    }).deploy(plan);
    const mapping = deployment.mappings.find((m) =>
      deployment.functions.some(
        (f) => f.functionName === m.functionName && f.environment[ENV.PIPELINE] === spec.name,
      ),
    );
    const fn = deployment.functions.find((f) => f.functionName === mapping?.functionName);
    if (fn === undefined || mapping === undefined)
      throw new Error(`The deployed stack has no operator function and mapping for ${spec.name}`);
    const streamName = mapping.eventSourceArn.slice(mapping.eventSourceArn.lastIndexOf('/') + 1);
    const bucket = fn.environment[ENV.RESULTS_BUCKET];
    const stateTable = fn.environment[ENV.STATE_TABLE];
    if (bucket === undefined || stateTable === undefined)
      throw new Error('The operator function has no bucket or table in its environment');
    const checkpoints = new MemoryCheckpointStore();
    let processed = 0;
    let lastProcessedAt = NaN;
    let failures = 0;
    const hooks: InvocationHooks = {
      ...options.hooks,
      onInvoke: async (info, outcome) => {
        const items = outcome.ok
          ? ((outcome.payload as { batchItemFailures?: unknown[] } | null)?.batchItemFailures ?? [])
          : [];
        if (outcome.ok && items.length === 0) {
          processed += info.event.Records.length;
          lastProcessedAt = performance.now();
        } else failures += 1;
        await options.hooks?.onInvoke?.(info, outcome);
      },
    };
    let stopping: Promise<void> | undefined;
    return {
      bench,
      deployment,
      streamName,
      bucket,
      stateTable,
      batchSize: mapping.batchSize ?? 100,
      synthMs,
      processed: () => processed,
      lastProcessedAt: () => lastProcessedAt,
      failures: () => failures,
      coldStarts: () => startedWorkers + invoker.coldStarts,
      startMapping: async (o = {}) => {
        if (runtime !== undefined) throw new Error('the mapping is already running');
        if (o.reuseWorkers !== true || invoker.coldStarts === 0) {
          startedWorkers += invoker.coldStarts;
          await invoker.close();
          invoker = newInvoker();
          // Lambda keeps one instance per shard busy on a Kinesis mapping: warm as many workers, at once.
          const shards =
            (await clients.kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
          const warm = await Promise.all(
            Array.from({ length: Math.max(1, shards.length) }, (_, i) =>
              invoker.invokeEvent(fn, { Records: [] }, `warm-up-${i}`),
            ),
          );
          const cold = warm.find((outcome) => !outcome.ok);
          if (cold !== undefined && !cold.ok)
            throw new Error(`warming the operator failed: ${cold.errorType}: ${cold.errorMessage}`);
        }
        o.onWarm?.();
        runtime = new EventSourceMappingRuntime({
          mappings: [mapping],
          functions: [fn],
          kinesis: new SdkKinesisReader(
            clients.kinesis,
            options.kinesisEmulator === 'kinesalite' ? { addressStreamsBy: 'name' } : {},
          ),
          // Stopping a runtime closes its invoker: this one keeps the workers for a `reuseWorkers` start.
          invoker: { invoke: (request) => invoker.invoke(request), close: () => Promise.resolve() },
          checkpoints,
          // As deployed: a batch Lambda gives up on leaves its on-failure record in the results bucket.
          failureDestination: failureDestinations(deployment, {
            s3: clients.s3,
            queueDir: join(scratch, 'queues'),
          }),
          hooks,
          pollIntervalMs: o.pollIntervalMs ?? 50,
          shardDiscoveryIntervalMs: 500,
          log: o.log ?? (() => undefined),
          ...(o.maxBufferedRecords === undefined ? {} : { maxBufferedRecords: o.maxBufferedRecords }),
        });
        await runtime.start();
        schedules = new ScheduleRunner(deployment.schedules, deployment.functions, invoker, {
          region: LOCAL_REGION,
          accountId: deployment.accountId,
          log: o.log ?? (() => undefined),
        });
        schedules.start(o.tickSpeedup ?? 12);
        return runtime;
      },
      stopMapping: async () => {
        schedules?.stop();
        schedules = undefined;
        await runtime?.stop();
        runtime = undefined;
      },
      stateStore: () => new DynamoDBStateStore({ tableName: stateTable, client: bench.clients().dynamoDb }),
      stop: () =>
        (stopping ??= (async () => {
          try {
            schedules?.stop();
            await runtime?.stop();
            await invoker.close();
          } finally {
            await bench.stop();
            if (assembly !== undefined) rmSync(assembly, { recursive: true, force: true });
          }
        })()),
    };
  } catch (error) {
    await invoker.close();
    await bench.stop();
    if (assembly !== undefined) rmSync(assembly, { recursive: true, force: true });
    throw error;
  }
}

/** Puts `records` (base64 data as in a Kinesis event) in PutRecords calls of 500, retrying failed entries. */
export async function putAll(
  kinesis: KinesisClient,
  streamName: string,
  records: readonly { readonly data: string; readonly partitionKey: string }[],
  concurrency = 2,
): Promise<void> {
  const chunks: { data: string; partitionKey: string }[][] = [];
  for (let i = 0; i < records.length; i += 500) chunks.push(records.slice(i, i + 500));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let chunk = chunks[next++]; chunk !== undefined; chunk = chunks[next++]) {
      let pending = chunk.map((r) => ({ PartitionKey: r.partitionKey, Data: Buffer.from(r.data, 'base64') }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 20) throw new Error(`PutRecords kept failing for ${pending.length} records`);
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: pending }));
        pending = pending.filter((_, i) => out.Records?.[i]?.ErrorCode !== undefined);
        if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
  };
  // Two chunks in flight (500 records, ~10 s of event time each) reorder event time by at most ~20 s, less
  // than allowed lateness + out-of-orderness (40 s): parallel producers, and still no record is late.
  await Promise.all(Array.from({ length: concurrency }, worker));
}
