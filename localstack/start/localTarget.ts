import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { createClients, type AwsClients } from '../../functions/adapters/aws';
import { DEFAULT_EDGE_PORT, LOCAL_CREDENTIALS, LOCAL_REGION } from '../emulators/constants';
import { readState, stateDirectory, stateFilePath } from '../emulators/stateFile';
import { NotRunningError } from './errors';

/** The commands that get a user from "no cloud" to a cloud with the stack deployed. */
export const DEPLOY_LOCAL_HINT = '"npx shardflow local up --detach", then "npx shardflow deploy --local"';

/** Where `start --keep` and `deploy` record the outputs of the last deployment (`.shardflow/outputs.json`). */
export function outputsFilePath(): string {
  return join(stateDirectory(), 'outputs.json');
}

/** Extra key of `outputs.json`: the endpoint of the cloud a `start --keep` left running. */
export const ENDPOINT_OUTPUT = 'LocalEndpoint';

/** The stack outputs the CLI needs (CloudFormation output keys of `lib/stacks`). */
export interface DeploymentOutputs {
  readonly ResultsBucketName?: string;
  readonly StateTableName?: string;
  readonly AthenaWorkgroupName?: string;
  readonly GlueDatabaseName?: string;
  /** `StreamName<Scope>` outputs, one per pipeline, and any other outputs. */
  readonly [key: string]: string | undefined;
}

/**
 * The endpoint the CLI talks to: `AWS_ENDPOINT_URL` when set (the embedded cloud, LocalStack, or a
 * custom endpoint), else the one `shardflow local up` recorded, else the one a `start --keep` recorded,
 * else the default edge port.
 */
export async function localEndpoint(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  return (await localTarget(env)).endpoint;
}

/** The endpoint the CLI talks to and why that one (for `--verbose`). */
export async function localTarget(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<{ readonly endpoint: string; readonly source: string }> {
  const configured = env.AWS_ENDPOINT_URL;
  if (configured !== undefined && configured !== '')
    return { endpoint: configured, source: 'AWS_ENDPOINT_URL' };
  const state = await readState().catch(() => undefined);
  if (state !== undefined)
    return {
      endpoint: state.endpoint,
      source: `"shardflow ${state.command ?? 'local up'}" (pid ${state.pid}, ${stateFilePath()})`,
    };
  const kept = readOutputs()?.[ENDPOINT_OUTPUT];
  if (kept !== undefined) return { endpoint: kept, source: outputsFilePath() };
  return {
    endpoint: `http://127.0.0.1:${DEFAULT_EDGE_PORT}`,
    source: 'the default edge port (no local cloud recorded, AWS_ENDPOINT_URL unset)',
  };
}

/** Clients for the local cloud at `endpoint`, with the emulators' region and dummy credentials unless set. */
export function localClients(endpoint: string): AwsClients {
  process.env.AWS_REGION ??= LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  return createClients({ ...process.env, AWS_ENDPOINT_URL: endpoint });
}

/**
 * Checks that something answers Kinesis calls at the endpoint, quickly.
 *
 * @throws NotRunningError with the command that starts the local cloud.
 */
export async function assertLocalCloudRunning(
  clients: AwsClients,
  endpoint: string,
  timeoutMs = 3_000,
): Promise<void> {
  try {
    await clients.kinesis.send(new ListStreamsCommand({ Limit: 1 }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new NotRunningError(
      `Local cloud not running at ${endpoint}: start one with the stack deployed: ${DEPLOY_LOCAL_HINT} (or set AWS_ENDPOINT_URL)`,
      { cause: error },
    );
  }
}

/** Reads the recorded deployment outputs, or `undefined` when there are none. */
export function readOutputs(file: string = outputsFilePath()): DeploymentOutputs | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    // `cdk deploy --outputs-file` nests outputs under the stack name; ours are flat. Accept both.
    const values = Object.values(parsed as Record<string, unknown>);
    const nested = values.length > 0 && values.every((v) => typeof v === 'object' && v !== null);
    const flat = nested ? Object.assign({}, ...(values as object[])) : parsed;
    return Object.fromEntries(
      Object.entries(flat as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    );
  } catch {
    return undefined;
  }
}

/** Records deployment outputs for later `query`, `status` and `send` calls. */
export function writeOutputs(outputs: DeploymentOutputs, file: string = outputsFilePath()): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(outputs, null, 2) + '\n');
}

/** Forgets the recorded outputs (when the deployment they describe goes away). */
export function removeOutputs(file: string = outputsFilePath()): void {
  rmSync(file, { force: true });
}

/**
 * The results bucket: `--bucket`, else the recorded outputs, else the one bucket on the endpoint
 * whose name says "results".
 *
 * @throws NotRunningError when none can be found.
 */
export async function resolveResultsBucket(clients: AwsClients, explicit?: string): Promise<string> {
  if (explicit !== undefined && explicit !== '') return explicit;
  const recorded = readOutputs()?.ResultsBucketName;
  if (recorded !== undefined) return recorded;
  const { Buckets = [] } = await clients.s3.send(new ListBucketsCommand({}));
  const candidates = Buckets.map((b) => b.Name ?? '').filter((n) => /results/i.test(n));
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0];
  throw new NotRunningError(
    candidates.length === 0
      ? 'No results bucket found: deploy the stack with "npx shardflow deploy --local" (or pass --bucket)'
      : `Several results buckets found (${candidates.join(', ')}): pass --bucket`,
  );
}
