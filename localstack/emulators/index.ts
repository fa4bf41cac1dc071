/**
 * The embedded local cloud: Kinesis, DynamoDB and S3 emulators on free loopback ports behind one edge
 * endpoint. Used by the integration tests (`test/helpers/localCloud.ts`) and `shardflow local up`.
 */
import { startEdgeProxy, type RunningEdge } from '../edge/EdgeProxy';
import { DEFAULT_EDGE_PORT, type LocalService } from './constants';
import { startDynamoDbEmulator, type DynamoDbEmulatorKind } from './dynamoDbEmulator';
import { startKinesaliteEmulator } from './kinesaliteEmulator';
import { startKinesisEmulator } from './kinesisEmulator';
import { startS3Emulator } from './s3Emulator';
import { LocalCloudError } from './errors';
import type { RunningEmulator } from './types';

export {
  DEFAULT_EDGE_PORT,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_SERVICES,
  type LocalService,
} from './constants';
export { DYNAMODB_EMULATORS, type DynamoDbEmulatorKind } from './dynamoDbEmulator';

/** The Kinesis emulators the local cloud can run. */
export const KINESIS_EMULATORS = {
  /** kinesis-mock (npm `kinesis-local`), LocalStack's Kinesis engine: the default. */
  KINESIS_MOCK: 'kinesis-mock',
  /**
   * kinesalite: for bounded replays (`shardflow run`) and the load run. kinesis-mock's PutRecords slows down
   * linearly with the records held by the shard (see kinesaliteEmulator.ts); kinesalite's does not.
   */
  KINESALITE: 'kinesalite',
} as const;
export type KinesisEmulatorKind = (typeof KINESIS_EMULATORS)[keyof typeof KINESIS_EMULATORS];
export { EmulatorHealthCheckError, EmulatorStartError, LocalCloudError } from './errors';

/** Options of {@link startLocalCloud}. */
export interface LocalCloudOptions {
  /**
   * Port of the edge endpoint; 0 picks a free port.
   * @default 4566 (LocalStack's edge port)
   */
  readonly edgePort?: number;
  /** Receives progress and emulator output lines. @default no logging */
  readonly log?: (line: string) => void;
  /**
   * Which DynamoDB emulator to run.
   * @default `$SHARDFLOW_DYNAMODB_EMULATOR`, else 'dynamodb-local'
   */
  readonly dynamoDbEmulator?: DynamoDbEmulatorKind;
  /**
   * Which Kinesis emulator to run.
   * @default 'kinesis-mock'
   */
  readonly kinesisEmulator?: KinesisEmulatorKind;
}

/** A running local cloud. */
export interface LocalCloud {
  /** The edge URL, e.g. `http://127.0.0.1:4566`: the value for `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  /** Each emulator's own URL, bypassing the edge. */
  readonly endpoints: Readonly<Record<LocalService, string>>;
  /** Process group id of each emulator. */
  readonly pids: Readonly<Record<LocalService, number>>;
  /** The Kinesis engine running (kinesis-mock, LocalStack's, by default). */
  readonly kinesisEmulator: KinesisEmulatorKind;
  /** Measured start-up time in ms of each emulator (spawn to first successful API call) and in total. */
  readonly startupMs: Readonly<Record<LocalService | 'total', number>>;
  /**
   * Resolves when an emulator exits on its own (crashed, killed) while the cloud is up; never after
   * `stop()`. Whoever drives work on the cloud should stop it then rather than let requests fail until
   * batches are discarded.
   */
  readonly failed: Promise<EmulatorFailure>;
  /** Stops the edge and every emulator with its whole process group; idempotent. */
  stop(): Promise<void>;
}

/** An emulator that exited while the local cloud was up. */
export interface EmulatorFailure {
  readonly service: LocalService;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** One line for the user, e.g. `the dynamodb emulator (pid 123) exited unexpectedly (signal SIGKILL)`. */
  readonly message: string;
}

/**
 * Starts all emulators in parallel, waits until each answers a real API call, then opens the edge.
 * If anything fails, whatever did start is stopped before the error is rethrown.
 *
 * @example
 * const cloud = await startLocalCloud({ edgePort: 0 });
 * process.env.AWS_ENDPOINT_URL = cloud.endpoint;
 * // ...
 * await cloud.stop();
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const started = performance.now();
  const edgePort = options.edgePort ?? DEFAULT_EDGE_PORT;
  const log = options.log;
  const emulatorOptions = log ? { log } : {};
  const results = await Promise.allSettled([
    options.kinesisEmulator === KINESIS_EMULATORS.KINESALITE
      ? startKinesaliteEmulator(emulatorOptions)
      : startKinesisEmulator(emulatorOptions),
    startDynamoDbEmulator(emulatorOptions, options.dynamoDbEmulator),
    startS3Emulator(emulatorOptions),
  ]);
  const running = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(running.map((emulator) => emulator.stop()));
    throw failure.reason;
  }
  const byService = new Map<LocalService, RunningEmulator>(running.map((e) => [e.service, e]));
  const get = (service: LocalService): RunningEmulator => byService.get(service) as RunningEmulator;
  const endpoints = {
    kinesis: get('kinesis').endpoint,
    dynamodb: get('dynamodb').endpoint,
    s3: get('s3').endpoint,
  };
  let edge: RunningEdge;
  try {
    edge = await startEdgeProxy({ port: edgePort, upstreams: endpoints });
  } catch (error) {
    await Promise.all(running.map((emulator) => emulator.stop()));
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new LocalCloudError(
        `edge port ${edgePort} is already in use (LocalStack or another local cloud?); choose another with --port, or 0 for any free port`,
        { cause: error },
      );
    }
    throw error;
  }
  const startupMs = {
    kinesis: get('kinesis').startupMs,
    dynamodb: get('dynamodb').startupMs,
    s3: get('s3').startupMs,
    total: performance.now() - started,
  };
  for (const emulator of running)
    log?.(`${emulator.service} ready at ${emulator.endpoint} in ${Math.round(emulator.startupMs)} ms`);
  log?.(`edge ready at ${edge.endpoint}; local cloud up in ${Math.round(startupMs.total)} ms`);
  let stopping: Promise<void> | undefined;
  const failed = new Promise<EmulatorFailure>((resolve) => {
    for (const emulator of running) {
      void emulator.exited.then(({ code, signal }) => {
        if (stopping !== undefined) return;
        const how = signal !== null ? `signal ${signal}` : `code ${code ?? 'none'}`;
        const message = `the ${emulator.service} emulator (pid ${emulator.pid}) exited unexpectedly (${how})`;
        log?.(message);
        resolve({ service: emulator.service, pid: emulator.pid, code, signal, message });
      });
    }
  });
  return {
    endpoint: edge.endpoint,
    kinesisEmulator: options.kinesisEmulator ?? KINESIS_EMULATORS.KINESIS_MOCK,
    failed,
    endpoints,
    pids: { kinesis: get('kinesis').pid, dynamodb: get('dynamodb').pid, s3: get('s3').pid },
    startupMs,
    stop: () =>
      (stopping ??= (async () => {
        await edge.stop();
        await Promise.all(running.map((emulator) => emulator.stop()));
      })()),
  };
}
