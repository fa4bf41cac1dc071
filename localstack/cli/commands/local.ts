/**
 * `shardflow local up | down | status`: the embedded local cloud from the command line.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { InvalidArgumentError, type Command } from 'commander';
import { dynamoDbClient, kinesisClient, s3Client } from '../../../functions/adapters/aws';
import {
  DEFAULT_EDGE_PORT,
  EDGE_PORT_ENV,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalService,
} from '../../emulators/constants';
import {
  DYNAMODB_EMULATOR_ENV,
  DYNAMODB_EMULATORS,
  dynamoDbEmulatorKind,
  type DynamoDbEmulatorKind,
} from '../../emulators/dynamoDbEmulator';
import { groupAlive, signalGroup } from '../../emulators/EmulatorProcess';
import { LocalCloudError } from '../../emulators/errors';
import { startLocalCloud } from '../../emulators/index';
import { readOutputs } from '../../start/localTarget';
import { untilInterrupted } from '../interrupted';
import {
  logFilePath,
  ownerAlive,
  processAlive,
  readState,
  removeState,
  stateDirectory,
  stateFilePath,
  writeState,
  type LocalCloudState,
} from '../../emulators/stateFile';

/** How long `up --detach` waits for the background cloud to become healthy. */
const DETACH_READY_TIMEOUT_MS = 120_000;
/** How long `down` waits for a graceful stop before killing what is left. */
const DOWN_GRACE_MS = 15_000;
const HEALTH_TIMEOUT_MS = 5_000;

/** Message the foreground `up` sends to a detaching parent once the cloud is healthy. */
interface ReadyMessage {
  readonly type: 'shardflow:local-ready';
  readonly state: LocalCloudState;
}

/** Parses `--port`: an integer 0–65535 (0 = any free port). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError(`Port must be an integer between 0 and 65535 (given ${value}).`);
  }
  return port;
}

function defaultPort(): number {
  const configured = process.env[EDGE_PORT_ENV];
  return configured !== undefined && configured !== '' ? parsePort(configured) : DEFAULT_EDGE_PORT;
}

function describeCloud(state: LocalCloudState): string {
  return [
    `local cloud up (pid ${state.pid}) at ${state.endpoint}`,
    ...(['kinesis', 'dynamodb', 's3'] as const).map((s) => `  ${s.padEnd(9)}${state.endpoints[s]}`),
    `export AWS_ENDPOINT_URL=${state.endpoint} AWS_REGION=${LOCAL_REGION} AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey}`,
  ].join('\n');
}

async function ensureNotRunning(): Promise<void> {
  const existing = await readState();
  if (existing === undefined) return;
  if (await ownerAlive(existing)) {
    throw new LocalCloudError(
      `the local cloud is already running (pid ${existing.pid}) at ${existing.endpoint}; run 'shardflow local down' first`,
    );
  }
  await removeState();
}

/** Foreground `up`: runs until SIGINT/SIGTERM/SIGHUP, then stops everything. */
async function upForeground(
  port: number,
  verbose: boolean,
  dynamoDb: DynamoDbEmulatorKind | undefined,
): Promise<void> {
  await ensureNotRunning();
  const cloud = await startLocalCloud({
    edgePort: port,
    ...(dynamoDb !== undefined ? { dynamoDbEmulator: dynamoDb } : {}),
    log: (line) => {
      if (verbose || !line.startsWith('[')) process.stdout.write(`${line}\n`);
    },
  });
  const state: LocalCloudState = {
    pid: process.pid,
    endpoint: cloud.endpoint,
    endpoints: cloud.endpoints,
    pids: cloud.pids,
    startedAt: new Date().toISOString(),
    kinesis: cloud.kinesisEmulator,
  };
  try {
    await writeState(state);
  } catch (error) {
    await cloud.stop();
    throw error;
  }
  const interrupted = untilInterrupted();
  process.stdout.write(`${describeCloud(state)}\nPress Ctrl-C to stop.\n`);
  if (process.send) {
    const ready: ReadyMessage = { type: 'shardflow:local-ready', state };
    process.send(ready);
  }
  const signal = await interrupted;
  // A second Ctrl-C while stopping exits at once; the exit hook still kills every emulator group.
  process.once('SIGINT', () => process.exit(130));
  process.stdout.write(`${signal}: stopping the local cloud\n`);
  await cloud.stop();
  await removeState();
  process.stdout.write('local cloud stopped\n');
}

async function tail(path: string, lines = 15): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/** Detached `up`: starts the foreground `up` in its own session and returns once it is healthy. */
async function upDetached(port: number, dynamoDb: DynamoDbEmulatorKind | undefined): Promise<void> {
  await ensureNotRunning();
  const directory = stateDirectory();
  await mkdir(directory, { recursive: true });
  const logPath = logFilePath(directory);
  const logFd = openSync(logPath, 'a', 0o600);
  const bin = join(__dirname, '..', 'bin.js');
  const args = [
    bin,
    'local',
    'up',
    '--port',
    String(port),
    ...(dynamoDb !== undefined ? ['--dynamodb', dynamoDb] : []),
  ];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
    env: { ...process.env, SHARDFLOW_STATE_DIR: directory },
  });
  closeSync(logFd);
  const state = await new Promise<LocalCloudState>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(
        new LocalCloudError(
          `the local cloud was not healthy after ${DETACH_READY_TIMEOUT_MS} ms (see ${logPath})`,
        ),
      );
    }, DETACH_READY_TIMEOUT_MS);
    child.on('message', (message: unknown) => {
      if ((message as Partial<ReadyMessage> | null)?.type === 'shardflow:local-ready') {
        clearTimeout(timer);
        resolve((message as ReadyMessage).state);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new LocalCloudError(`cannot start the local cloud: ${error.message}`, { cause: error }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      void tail(logPath).then((output) =>
        reject(
          new LocalCloudError(`the local cloud exited during start-up (code ${code ?? 'none'}): ${output}`),
        ),
      );
    });
  });
  child.removeAllListeners('exit');
  child.disconnect();
  child.unref();
  process.stdout.write(
    `${describeCloud(state)}\nRunning in the background (log: ${logPath}); stop it with 'shardflow local down'.\n`,
  );
}

async function down(): Promise<void> {
  const state = await readState();
  if (state === undefined) {
    process.stdout.write('the local cloud is not running\n');
    return;
  }
  const groups = Object.values(state.pids);
  if (await ownerAlive(state)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = performance.now() + DOWN_GRACE_MS;
    while ((processAlive(state.pid) || groups.some(groupAlive)) && performance.now() < deadline)
      await sleep(50);
  }
  // Whatever did not stop in time (or was orphaned by a killed `up`) goes now, group by group.
  if (await ownerAlive(state)) {
    // A detached `up` leads its own group; a foreground one (started in a terminal) does not.
    if (!signalGroup(state.pid, 'SIGKILL')) process.kill(state.pid, 'SIGKILL');
  }
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  await removeState();
  process.stdout.write(`local cloud stopped (pid ${state.pid})\n`);
}

async function health(state: LocalCloudState): Promise<Record<LocalService, string>> {
  const common = {
    endpoint: state.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  };
  const timed = async (call: () => Promise<unknown>): Promise<string> => {
    try {
      await call();
      return 'healthy';
    } catch (error) {
      return `unhealthy (${error instanceof Error ? error.name : String(error)})`;
    }
  };
  const kinesis = kinesisClient(common);
  const dynamodb = dynamoDbClient(common);
  const s3 = s3Client(common);
  try {
    const [k, d, s] = await Promise.all([
      timed(() =>
        kinesis.send(new ListStreamsCommand({}), { abortSignal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }),
      ),
      timed(() =>
        dynamodb.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }),
      ),
      timed(() =>
        s3.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }),
      ),
    ]);
    return { kinesis: k, dynamodb: d, s3: s };
  } finally {
    kinesis.destroy();
    dynamodb.destroy();
    s3.destroy();
  }
}

/** The pipelines deployed on the cloud: its streams, and the stack outputs a `--keep` or `deploy --local` recorded. */
async function describeDeployment(state: LocalCloudState): Promise<string> {
  const kinesis = kinesisClient({
    endpoint: state.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  try {
    const streams = (
      await kinesis.send(new ListStreamsCommand({}), { abortSignal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
    ).StreamNames;
    const outputs = readOutputs();
    const pipelines = Object.entries(outputs ?? {})
      .filter(([key]) => key.startsWith('StreamName'))
      .map(([key, stream]) => `${key.slice('StreamName'.length)} (stream ${stream})`);
    return [
      `  streams  ${streams === undefined || streams.length === 0 ? 'none: nothing deployed yet (shardflow deploy --local)' : streams.join(', ')}`,
      ...(pipelines.length > 0 ? [`  deployed ${pipelines.join(', ')}`] : []),
    ].join('\n');
  } finally {
    kinesis.destroy();
  }
}

async function status(): Promise<void> {
  const state = await readState();
  if (state === undefined || !(await ownerAlive(state))) {
    throw new LocalCloudError(
      `the local cloud is not running${state === undefined ? '' : ` (stale ${stateFilePath()})`}: start it with npx shardflow local up`,
    );
  }
  const result = await health(state);
  process.stdout.write(
    [
      `local cloud running (pid ${state.pid}, started by "shardflow ${state.command ?? 'local up'}${state.command === undefined || state.command === 'local up' ? '' : ' --keep'}") since ${state.startedAt}`,
      `  edge     ${state.endpoint}`,
      ...(['kinesis', 'dynamodb', 's3'] as const).map(
        (s) => `  ${s.padEnd(9)}${state.endpoints[s]}  pid ${state.pids[s]}  via edge: ${result[s]}`,
      ),
    ].join('\n') + '\n',
  );
  const unhealthy = Object.entries(result).filter(([, value]) => value !== 'healthy');
  if (unhealthy.length === 0) process.stdout.write(`${await describeDeployment(state)}\n`);
  if (unhealthy.length > 0) {
    throw new LocalCloudError(
      `unhealthy: ${unhealthy.map(([service, value]) => `${service} ${value}`).join(', ')}`,
    );
  }
}

/**
 * Adds `local up`, `local down` and `local status` to the program.
 *
 * @example
 * registerLocalCommands(program); // shardflow local up --detach --port 0
 */
export function registerLocalCommands(program: Command): void {
  const local = program
    .command('local')
    .description('Run the embedded local cloud (Kinesis, DynamoDB, S3 emulators behind one endpoint).');
  local
    .command('up')
    .description('Start the local cloud; runs until Ctrl-C unless --detach is given.')
    .option(
      '-p, --port <port>',
      `edge port, 0 for any free port (default: $${EDGE_PORT_ENV} or ${DEFAULT_EDGE_PORT})`,
      parsePort,
    )
    .option('-d, --detach', 'start in the background and return once healthy', false)
    .option('-v, --verbose', 'print emulator output', false)
    .option(
      '--dynamodb <emulator>',
      `DynamoDB emulator: ${Object.values(DYNAMODB_EMULATORS).join(' or ')} (default: $${DYNAMODB_EMULATOR_ENV} or ${DYNAMODB_EMULATORS.DYNAMODB_LOCAL})`,
      (value: string) => {
        const kinds: readonly string[] = Object.values(DYNAMODB_EMULATORS);
        if (!kinds.includes(value)) {
          throw new InvalidArgumentError(
            `The DynamoDB emulator must be one of ${kinds.join(', ')} (given ${value}).`,
          );
        }
        return dynamoDbEmulatorKind(value);
      },
    )
    .action(
      async (options: {
        port?: number;
        detach: boolean;
        verbose: boolean;
        dynamodb?: DynamoDbEmulatorKind;
      }) => {
        const port = options.port ?? defaultPort();
        if (options.detach) await upDetached(port, options.dynamodb);
        else await upForeground(port, options.verbose, options.dynamodb);
      },
    );
  local
    .command('down')
    .description('Stop a local cloud started with `local up` and every emulator process it started.')
    .action(down);
  local
    .command('status')
    .description('Print the endpoints and check each emulator through the edge.')
    .action(status);
}
