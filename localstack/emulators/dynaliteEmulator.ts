import { EMULATOR_START_TIMEOUT_MS, LOOPBACK_HOST } from './constants';
import { EmulatorProcess, LOOPBACK_PRELOAD } from './EmulatorProcess';
import { healthyDynamoDbEmulator } from './healthCheck';
import type { EmulatorOptions, RunningEmulator } from './types';

const PORT_PLACEHOLDER = 45684;

/** Starts dynalite (in memory) on a free loopback port, with instant table status transitions. */
export async function startDynaliteEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? EMULATOR_START_TIMEOUT_MS;
  const child = await EmulatorProcess.start({
    name: 'dynamodb',
    command: process.execPath,
    args: [
      '--require',
      LOOPBACK_PRELOAD,
      require.resolve('dynalite/cli.js'),
      '--host',
      LOOPBACK_HOST,
      '--port',
      String(PORT_PLACEHOLDER),
      '--createTableMs',
      '0',
      '--deleteTableMs',
      '0',
      '--updateTableMs',
      '0',
    ],
    ephemeralPorts: [PORT_PLACEHOLDER],
    timeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const endpoint = `http://${LOOPBACK_HOST}:${child.port(PORT_PLACEHOLDER)}`;
  return healthyDynamoDbEmulator(
    { endpoint, pid: child.pid, startedAt: started, stop: () => child.stop() },
    timeoutMs,
  );
}
