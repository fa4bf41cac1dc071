import { ENV } from '../../functions/core/constants';
import { sumCounts } from '../../functions/core/state/shardCounts';
import type { ShardCounts } from '../../functions/core/state/types';
import type { PipelineSpec } from '../../functions/core/types';
import { createClients, resetClients, type AwsClients } from '../../functions/adapters/aws';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { createOperatorRuntime, type OperatorRuntime } from '../../functions/adapters/operatorRuntime';
import { deployAndRun, ScheduleRunner, type RunningDeployment } from '../deployer';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../emulators/constants';
import { endpointEnvironment } from '../emulators/endpointEnvironment';
import {
  LocalCloudError,
  startLocalCloud,
  type KinesisEmulatorKind,
  type LocalCloud,
} from '../emulators/index';
import { MemoryCheckpointStore, WorkerInvoker, type ShardLag } from '../eventSourceMapping';
import { NotRunningError } from './errors';

/** Options of {@link openLocalSession}. */
export interface LocalSessionOptions {
  /** Synthesized stack template (`<cdk.out>/<Stack>.template.json`). */
  readonly templatePath: string;
  /** Edge port of the embedded cloud; 0 picks a free port. @default 0 */
  readonly edgePort?: number;
  /** Divides the period of the stack's `rate(...)` tick schedules (12 → the 1-minute tick every 5 s). @default 12 */
  readonly tickSpeedup?: number;
  /** Progress and warnings of the cloud, deployer and runtime. */
  readonly log?: (line: string) => void;
  /** Show the functions' INFO logs and EMF metrics (Lambda's CloudWatch output) on stdout. @default false */
  readonly functionLogs?: boolean;
  /** The Kinesis engine. @default 'kinesis-mock' */
  readonly kinesisEmulator?: KinesisEmulatorKind;
  /** A cloud already running (`shardflow local up`) to deploy on: not started, and not stopped by `stop`. */
  readonly cloud?: LocalCloud;
}

/** The embedded cloud with the stack deployed on it and its event source mappings running. */
export interface LocalSession {
  readonly cloud: LocalCloud;
  readonly app: RunningDeployment;
  readonly clients: AwsClients;
  /** Resolved stack outputs (ResultsBucketName, StateTableName, StreamName<Pipeline>, …). */
  readonly outputs: Readonly<Record<string, string>>;
  readonly bucket: string;
  readonly stateTable: string;
  /** The synthesized template deployed (`LocalSessionOptions.templatePath`). */
  readonly templatePath: string;
  /** Kinesis records the operator functions acknowledged (successful invocations, no item failures). */
  processedRecords(): number;
  /** Per-shard iterator age and pending records of every mapping. */
  lag(): readonly ShardLag[];
  /** The source stream's physical name of a deployed pipeline. */
  streamOf(spec: PipelineSpec): string;
  /**
   * End of bounded input: waits until every mapping is idle, then closes every window of the pipeline
   * by ticking with a watermark of +∞ until nothing is due. Returns the number of windows it emitted.
   */
  endOfInput(pipeline: StatefulPipeline, idleTimeoutMs?: number): Promise<number>;
  /**
   * Waits until every mapping is idle, then runs the pipeline's tick once (as its schedule would): every
   * window the watermark has passed closes now. Returns the number of windows it emitted.
   */
  closeDue(pipeline: StatefulPipeline, idleTimeoutMs?: number): Promise<number>;
  /** What the pipeline's shards took in so far, summed over its shard progress items (committed batches only). */
  counts(pipeline: StatefulPipeline): Promise<ShardCounts>;
  /**
   * `work`, or a `LocalCloudError` naming the emulator as soon as one exits on its own: the session then
   * stops its mappings and schedules at once, so no batch is retried against a dead emulator until Lambda
   * semantics would discard it.
   */
  guard<T>(work: Promise<T>): Promise<T>;
  /** Stops the mappings, the schedules and the cloud. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded local cloud, deploys a synthesized stack on it and starts the stack's event
 * source mappings and tick schedules. Everything started is stopped again if a step fails.
 */
export async function openLocalSession(options: LocalSessionOptions): Promise<LocalSession> {
  const log = options.log ?? (() => {});
  const owned = options.cloud === undefined;
  const cloud =
    options.cloud ??
    (await startLocalCloud({
      edgePort: options.edgePort ?? 0,
      ...(options.kinesisEmulator === undefined ? {} : { kinesisEmulator: options.kinesisEmulator }),
      log: (l) => (l.startsWith('[') ? undefined : log(l)),
    }));
  const stopCloud = async (): Promise<void> => {
    if (owned) await cloud.stop();
  };
  // This process now talks to this cloud only: the shared clients (and the in-process tick) follow it.
  process.env.AWS_ENDPOINT_URL = cloud.endpoint;
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  resetClients();
  let processed = 0;
  let app: RunningDeployment;
  // Our own invoker so the functions' output (CloudWatch Logs and EMF metrics in AWS) stays off the
  // user's terminal unless asked for; failed invocations are still reported by the runtime's log.
  const showLogs = options.functionLogs === true;
  const quiet: Record<string, string> = showLogs ? {} : { POWERTOOLS_METRICS_DISABLED: 'true' };
  const invoker = new WorkerInvoker({
    inheritOutput: showLogs,
    environment: {
      ...endpointEnvironment(cloud),
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...quiet,
    },
  });
  let schedules: ScheduleRunner | undefined;
  try {
    app = await deployAndRun(options.templatePath, {
      cloud,
      checkpoints: new MemoryCheckpointStore(),
      fireSchedules: false,
      log,
      functionOutput: showLogs,
      hooks: {
        onInvoke: (info, outcome) => {
          if (!outcome.ok) return;
          const failures =
            (outcome.payload as { batchItemFailures?: unknown[] } | null)?.batchItemFailures ?? [];
          if (failures.length === 0) processed += info.event.Records.length;
        },
      },
      runtime: { log, invoker },
    });
    schedules = new ScheduleRunner(app.deployment.schedules, app.deployment.functions, invoker, {
      region: LOCAL_REGION,
      accountId: app.deployment.accountId,
      log,
    });
    schedules.start(options.tickSpeedup ?? 12);
  } catch (error) {
    await invoker.close();
    await stopCloud();
    throw error;
  }
  const ticks = schedules;
  const outputs = app.deployment.outputs;
  const bucket = outputs.ResultsBucketName ?? app.deployment.buckets[0]?.name;
  const stateTable = outputs.StateTableName ?? app.deployment.tables[0]?.name;
  if (bucket === undefined || stateTable === undefined) {
    ticks.stop();
    await app.stop();
    await invoker.close();
    await stopCloud();
    throw new NotRunningError('The deployed stack has no results bucket or state table');
  }
  const clients = createClients(process.env);
  let stopping: Promise<void> | undefined;
  // The pipeline's tick, in process: the same wiring as the deployed tick function, from its environment.
  const runtimes = new Map<string, OperatorRuntime>();
  const runtimeOf = (pipeline: StatefulPipeline): OperatorRuntime => {
    const spec = pipeline.spec;
    const known = runtimes.get(spec.name);
    if (known !== undefined) return known;
    const fn = app.deployment.functions.find((f) => f.environment[ENV.PIPELINE] === spec.name);
    if (fn === undefined) throw new NotRunningError(`Pipeline ${spec.name} is not deployed`);
    const runtime = createOperatorRuntime('shardflow-local', pipeline, { ...process.env, ...fn.environment });
    runtimes.set(spec.name, runtime);
    return runtime;
  };
  const emulatorDied = cloud.failed.then(async (failure) => {
    log(`${failure.message}: stopping the event source mappings and schedules`);
    ticks.stop();
    await app.stop();
    return new LocalCloudError(
      `${failure.message}; the run stopped before any batch was retried against it (nothing was discarded). Start again.`,
    );
  });
  const session: LocalSession = {
    cloud,
    app,
    clients,
    outputs,
    bucket,
    stateTable,
    templatePath: options.templatePath,
    processedRecords: () => processed,
    lag: () => app.runtime.lag(),
    streamOf: (spec) => {
      const fn = app.deployment.functions.find(
        (f) => f.environment[ENV.PIPELINE] === spec.name && f.environment[ENV.STREAM_NAME],
      );
      const fromEnv = fn?.environment[ENV.STREAM_NAME];
      if (fromEnv !== undefined)
        return fromEnv.includes(':stream/') ? fromEnv.slice(fromEnv.lastIndexOf('/') + 1) : fromEnv;
      const stream =
        app.deployment.streams.find((s) => s.name.includes(spec.source.stream)) ?? app.deployment.streams[0];
      if (stream === undefined) throw new NotRunningError(`No stream deployed for pipeline ${spec.name}`);
      return stream.name;
    },
    endOfInput: async (pipeline, idleTimeoutMs = 120_000) => {
      await app.runtime.idle(idleTimeoutMs);
      const runtime = runtimeOf(pipeline);
      let emitted = 0;
      for (;;) {
        const { windowsEmitted } = await runtime.processor.tick(Number.POSITIVE_INFINITY);
        emitted += windowsEmitted;
        if (windowsEmitted === 0) break;
      }
      return emitted;
    },
    counts: async (pipeline) =>
      sumCounts((await runtimeOf(pipeline).store.readProgress(pipeline.spec.name)).shards),
    closeDue: async (pipeline, idleTimeoutMs = 120_000) => {
      await app.runtime.idle(idleTimeoutMs);
      return (await runtimeOf(pipeline).processor.tick()).windowsEmitted;
    },
    guard: <T>(work: Promise<T>): Promise<T> =>
      Promise.race([
        work,
        emulatorDied.then((error) => {
          throw error;
        }),
      ]),
    stop: () =>
      (stopping ??= (async () => {
        try {
          ticks.stop();
          await app.stop();
          await invoker.close();
        } finally {
          await stopCloud();
        }
      })()),
  };
  return session;
}
