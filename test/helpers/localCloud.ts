/**
 * Jest fixture for integration tests: one embedded local cloud per test file.
 *
 * @example
 * const cloud = useLocalCloud();
 * it('when ..., it ...', async () => {
 *   const { kinesis } = createClients(); // reads AWS_ENDPOINT_URL set by the fixture
 *   ...cloud().endpoints.kinesis...
 * });
 */
import { resetClients } from '../../functions/adapters/aws';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startLocalCloud,
  type LocalCloud,
} from '../../localstack/emulators';

/** Emulators of a cold start on a busy 2-core machine need more than jest's default 5 s. */
export const LOCAL_CLOUD_HOOK_TIMEOUT_MS = 60_000;

const FIXTURE_ENV = {
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
} as const;

const TOUCHED = [
  'AWS_ENDPOINT_URL',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  ...Object.keys(FIXTURE_ENV),
] as const;

/**
 * Starts the local cloud (edge on a free port) in `beforeAll`, points the AWS environment variables at
 * it, and restores them and stops everything in `afterAll`. Returns an accessor for the running cloud.
 */
export function useLocalCloud(): () => LocalCloud {
  let cloud: LocalCloud | undefined;
  const saved = new Map<string, string | undefined>();
  beforeAll(async () => {
    cloud = await startLocalCloud({ edgePort: 0 });
    for (const name of TOUCHED) saved.set(name, process.env[name]);
    // A profile or session token from the developer's shell must not leak into emulator requests.
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, FIXTURE_ENV, { AWS_ENDPOINT_URL: cloud.endpoint });
    resetClients();
  }, LOCAL_CLOUD_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetClients();
    await cloud?.stop();
  }, LOCAL_CLOUD_HOOK_TIMEOUT_MS);
  return () => {
    if (cloud === undefined)
      throw new Error('useLocalCloud(): the local cloud is only available inside tests');
    return cloud;
  };
}
