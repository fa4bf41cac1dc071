/**
 * The embedded local cloud for bench parts: started on a free port, the process environment pointed at it
 * (so the shared client factory and bundled handlers reach it), and tables/buckets created the way the
 * stack creates them.
 */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createClients, resetClients, type AwsClients } from '../../functions/adapters/aws';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startLocalCloud,
  type KinesisEmulatorKind,
  type LocalCloud,
} from '../../localstack/emulators';
import { createStateTable as createSharedStateTable } from '../helpers/stateTable';

/** A running bench cloud. */
export interface BenchCloud {
  readonly cloud: LocalCloud;
  /** Environment a client (or a worker running a bundle) needs to reach the cloud. */
  readonly env: Readonly<Record<string, string>>;
  /** Fresh clients (each call makes new ones, so counting middleware stays per approach). */
  clients(): AwsClients;
  stop(): Promise<void>;
}

/** Starts the local cloud (kinesis-mock unless `kinesisEmulator` says otherwise) and points `process.env` at it until `stop`. */
export async function startBenchCloud(
  options: { readonly kinesisEmulator?: KinesisEmulatorKind; readonly log?: (line: string) => void } = {},
): Promise<BenchCloud> {
  const cloud = await startLocalCloud({ edgePort: 0, ...options });
  const env = {
    AWS_ENDPOINT_URL: cloud.endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  resetClients();
  return {
    cloud,
    env,
    clients: () => createClients(env),
    stop: async () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      resetClients();
      await cloud.stop();
    },
  };
}

/** Creates a state table shaped like the stack's (pk/sk, sparse open-windows GSI with ALL), on-demand. */
export function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return createSharedStateTable(client, tableName);
}

/** A table with a single string partition key (`pk`/`sk` counters, or Powertools' `id`). */
export async function createKeyTable(
  client: DynamoDBClient,
  tableName: string,
  keys: readonly string[],
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
    }),
  );
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}
