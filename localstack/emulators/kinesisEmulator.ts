import { dirname } from 'node:path';
import { EMULATOR_START_TIMEOUT_MS, LOCAL_ACCOUNT_ID, LOCAL_REGION, LOOPBACK_HOST } from './constants';
import { EmulatorProcess, LOOPBACK_PRELOAD } from './EmulatorProcess';
import { healthyKinesisEmulator } from './healthCheck';
import type { EmulatorOptions, RunningEmulator } from './types';
import { resolveLocalDependency } from './optionalDependency';

const PLAIN_PORT_PLACEHOLDER = 45681;
const TLS_PORT_PLACEHOLDER = 45682;

/**
 * Stream state transitions (CREATING → ACTIVE, resharding) take 500 ms by default in kinesis-mock;
 * tests and the deployer only need them to be asynchronous, not slow.
 */
const TRANSITION_DURATION = '10ms';

/** Settings of kinesis-mock (see its README, "Service Configuration"). */
function kinesisMockEnv(): Record<string, string> {
  const env: Record<string, string> = {
    KINESIS_MOCK_PLAIN_PORT: String(PLAIN_PORT_PLACEHOLDER),
    KINESIS_MOCK_TLS_PORT: String(TLS_PORT_PLACEHOLDER),
    AWS_REGION: LOCAL_REGION,
    AWS_ACCOUNT_ID: LOCAL_ACCOUNT_ID,
    SHARD_LIMIT: '1000',
    ON_DEMAND_STREAM_COUNT_LIMIT: '50',
    LOG_LEVEL: 'WARN',
    SHOULD_PERSIST_DATA: 'false',
  };
  for (const name of [
    'CREATE_STREAM_DURATION',
    'DELETE_STREAM_DURATION',
    'REGISTER_STREAM_CONSUMER_DURATION',
    'DEREGISTER_STREAM_CONSUMER_DURATION',
    'START_STREAM_ENCRYPTION_DURATION',
    'STOP_STREAM_ENCRYPTION_DURATION',
    'MERGE_SHARDS_DURATION',
    'SPLIT_SHARD_DURATION',
    'UPDATE_SHARD_COUNT_DURATION',
    'UPDATE_STREAM_MODE_DURATION',
  ]) {
    env[name] = TRANSITION_DURATION;
  }
  return env;
}

/**
 * Starts kinesis-mock (npm `kinesis-local`, the Kinesis engine LocalStack uses) on a free loopback
 * port, speaking plain HTTP.
 *
 * @example
 * const kinesis = await startKinesisEmulator();
 * // ... kinesisClient({ endpoint: kinesis.endpoint })
 * await kinesis.stop();
 */
export async function startKinesisEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? EMULATOR_START_TIMEOUT_MS;
  // kinesis-mock reads server.json (its TLS certificate) from the working directory.
  const packageDir = dirname(resolveLocalDependency('kinesis-local/package.json'));
  const child = await EmulatorProcess.start({
    name: 'kinesis',
    command: process.execPath,
    args: ['--require', LOOPBACK_PRELOAD, 'main.js'],
    cwd: packageDir,
    env: kinesisMockEnv(),
    ephemeralPorts: [PLAIN_PORT_PLACEHOLDER, TLS_PORT_PLACEHOLDER],
    timeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const endpoint = `http://${LOOPBACK_HOST}:${child.port(PLAIN_PORT_PLACEHOLDER)}`;
  return healthyKinesisEmulator(
    { endpoint, pid: child.pid, startedAt: started, stop: () => child.stop(), exited: child.exited },
    timeoutMs,
  );
}
