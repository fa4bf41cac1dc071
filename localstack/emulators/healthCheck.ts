import { setTimeout as sleep } from 'node:timers/promises';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { dynamoDbClient, kinesisClient } from '../../functions/adapters/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalService } from './constants';
import { EmulatorHealthCheckError } from './errors';
import type { EmulatorExitStatus } from './EmulatorProcess';
import type { RunningEmulator } from './types';

const POLL_INTERVAL_MS = 50;

/**
 * Repeats a real API call until it succeeds or the deadline passes. Emulators often accept
 * connections before they can serve requests (kinesis-mock's JS runtime, the JVM), so listening
 * alone is not healthy.
 *
 * @throws EmulatorHealthCheckError carrying the last failure as `cause`.
 */
export async function waitUntilHealthy(
  name: string,
  check: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const reason =
        lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError);
      throw new EmulatorHealthCheckError(`${name} did not answer within ${timeoutMs} ms (${reason})`, {
        cause: lastError,
      });
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** What a started (not yet healthy) emulator process is, as {@link healthyEmulator} reports it. */
export interface StartedEmulator {
  readonly service: LocalService;
  readonly endpoint: string;
  readonly pid: number;
  /** `performance.now()` just before the spawn. */
  readonly startedAt: number;
  /** Stops the process (and removes its data); also called when it never becomes healthy. */
  readonly stop: () => Promise<void>;
  /** Resolves when the process exits. */
  readonly exited: Promise<EmulatorExitStatus>;
}

/**
 * SDK client settings of a health probe: the emulator itself, local credentials, and no SDK retries
 * (the {@link waitUntilHealthy} loop is the retry).
 */
export function probeClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: typeof LOCAL_CREDENTIALS;
  maxAttempts: number;
} {
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
}

/**
 * Waits until `check` (a real API call through `probe`) succeeds, then describes the emulator. The
 * probe client is always destroyed; the emulator is stopped when it never becomes healthy.
 *
 * @throws EmulatorHealthCheckError after stopping the emulator.
 */
export async function healthyEmulator(
  emulator: StartedEmulator,
  probe: { destroy(): void },
  check: () => Promise<unknown>,
  timeoutMs: number,
): Promise<RunningEmulator> {
  try {
    await waitUntilHealthy(emulator.service, check, timeoutMs);
  } catch (error) {
    await emulator.stop();
    throw error;
  } finally {
    probe.destroy();
  }
  return {
    service: emulator.service,
    endpoint: emulator.endpoint,
    pid: emulator.pid,
    startupMs: performance.now() - emulator.startedAt,
    stop: emulator.stop,
    exited: emulator.exited,
  };
}

/** {@link healthyEmulator} for either DynamoDB engine (dynalite, DynamoDB Local): healthy once ListTables answers. */
export async function healthyDynamoDbEmulator(
  emulator: Omit<StartedEmulator, 'service'>,
  timeoutMs: number,
): Promise<RunningEmulator> {
  const client = dynamoDbClient(probeClientConfig(emulator.endpoint));
  return healthyEmulator(
    { service: 'dynamodb', ...emulator },
    client,
    () => client.send(new ListTablesCommand({})),
    timeoutMs,
  );
}

/** {@link healthyEmulator} for either Kinesis engine (kinesis-mock, kinesalite): healthy once ListStreams answers. */
export async function healthyKinesisEmulator(
  emulator: Omit<StartedEmulator, 'service'>,
  timeoutMs: number,
): Promise<RunningEmulator> {
  const client = kinesisClient(probeClientConfig(emulator.endpoint));
  return healthyEmulator(
    { service: 'kinesis', ...emulator },
    client,
    () => client.send(new ListStreamsCommand({})),
    timeoutMs,
  );
}
