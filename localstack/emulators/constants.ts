/** Settings of the embedded local cloud shared by the emulators, the edge and the CLI. */

/** The services the local cloud emulates, by their SigV4 credential-scope service name. */
export const LOCAL_SERVICES = {
  KINESIS: 'kinesis',
  DYNAMODB: 'dynamodb',
  S3: 's3',
} as const;
export type LocalService = (typeof LOCAL_SERVICES)[keyof typeof LOCAL_SERVICES];

/** Loopback only: the emulators have no authentication. */
export const LOOPBACK_HOST = '127.0.0.1';

/** LocalStack's edge port, so `AWS_ENDPOINT_URL=http://127.0.0.1:4566` works for both. */
export const DEFAULT_EDGE_PORT = 4566;

/** Environment variable that sets the edge port (0 = any free port). */
export const EDGE_PORT_ENV = 'SHARDFLOW_EDGE_PORT';

/** Region, account and dummy credentials the emulators and the test fixture use. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** How long one emulator may take from spawn to a successful API call. */
export const EMULATOR_START_TIMEOUT_MS = 30_000;

/** How long a stopped emulator gets to exit after SIGTERM before its group is SIGKILLed. */
export const EMULATOR_STOP_GRACE_MS = 3_000;
