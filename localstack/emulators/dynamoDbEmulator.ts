import { startDynaliteEmulator } from './dynaliteEmulator';
import { startDynamoDbLocalEmulator } from './dynamoDbLocalEmulator';
import { LocalCloudError } from './errors';
import type { EmulatorOptions, RunningEmulator } from './types';

/** The DynamoDB emulators the local cloud can run. */
export const DYNAMODB_EMULATORS = {
  /** DynamoDB Local (LocalStack's DynamoDB engine): the default, chosen by measured fidelity. */
  DYNAMODB_LOCAL: 'dynamodb-local',
  /** dynalite: starts ~7x faster and needs no Java, but lacks TransactWriteItems, TTL and ALL_OLD on failed conditions. */
  DYNALITE: 'dynalite',
} as const;
export type DynamoDbEmulatorKind = (typeof DYNAMODB_EMULATORS)[keyof typeof DYNAMODB_EMULATORS];

/** Environment variable that picks the DynamoDB emulator. */
export const DYNAMODB_EMULATOR_ENV = 'SHARDFLOW_DYNAMODB_EMULATOR';

/** Reads {@link DYNAMODB_EMULATOR_ENV}; unknown values are an error, not a silent default. */
export function dynamoDbEmulatorKind(value: string | undefined): DynamoDbEmulatorKind {
  if (value === undefined || value === '') return DYNAMODB_EMULATORS.DYNAMODB_LOCAL;
  const kinds: readonly string[] = Object.values(DYNAMODB_EMULATORS);
  if (kinds.includes(value)) return value as DynamoDbEmulatorKind;
  throw new LocalCloudError(`${DYNAMODB_EMULATOR_ENV} must be one of ${kinds.join(', ')} (given ${value})`);
}

/**
 * Starts the DynamoDB emulator the local cloud uses: DynamoDB Local unless
 * `SHARDFLOW_DYNAMODB_EMULATOR=dynalite`. See localstack/README.md, "Emulators and why", for the
 * measured comparison behind the default.
 */
export async function startDynamoDbEmulator(
  options: EmulatorOptions = {},
  kind?: DynamoDbEmulatorKind,
): Promise<RunningEmulator> {
  kind ??= dynamoDbEmulatorKind(process.env[DYNAMODB_EMULATOR_ENV]);
  return kind === DYNAMODB_EMULATORS.DYNALITE
    ? startDynaliteEmulator(options)
    : startDynamoDbLocalEmulator(options);
}
