import { LOOPBACK_HOST } from './constants';
import { healthyDynamoDbEmulator } from './healthCheck';
import { startNodeCliEmulator } from './nodeCliEmulator';
import type { EmulatorOptions, RunningEmulator } from './types';
import { resolveLocalDependency } from './optionalDependency';

const PORT_PLACEHOLDER = 45684;

/** Starts dynalite (in memory) on a free loopback port, with instant table status transitions. */
export async function startDynaliteEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startNodeCliEmulator(
    {
      name: 'dynamodb',
      script: resolveLocalDependency('dynalite/cli.js'),
      args: [
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
      portPlaceholder: PORT_PLACEHOLDER,
      healthy: healthyDynamoDbEmulator,
    },
    options,
  );
}
