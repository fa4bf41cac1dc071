import { startDynaliteEmulator } from './dynaliteEmulator';
import type { EmulatorOptions, RunningEmulator } from './types';

/**
 * Starts the DynamoDB emulator the local cloud uses. See localstack/README.md, "Emulators and why",
 * for the measured comparison behind the choice.
 */
export function startDynamoDbEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startDynaliteEmulator(options);
}
