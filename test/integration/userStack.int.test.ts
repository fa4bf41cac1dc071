/**
 * A user's own CDK stack with two `ShardflowPipeline`s, deployed on the local cloud: both given the user's
 * bucket (TLS only) and state table instead of creating their own, each reading its own stream. Both deploy
 * from the one template and apply their records, each into its own partitions of the table and its own
 * prefixes of the bucket.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { deployAndRun, type RunningDeployment } from '../../localstack/deployer';
import { MemoryCheckpointStore } from '../../localstack/eventSourceMapping';
import { ShardflowPipeline } from '../../lib/constructs/ShardflowPipeline';
import { useLocalCloud } from '../helpers/localCloud';

const cloud = useLocalCloud();

const ROOT = join(__dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/pipelines');

/** The user's app: their bucket and table, and two pipelines given both. */
function synth(outdir: string): { template: string; bucket: string; table: string } {
  const app = new App({ outdir });
  const stack = new Stack(app, 'UserApp');
  const lake = new s3.Bucket(stack, 'Lake', {
    bucketName: 'user-lake',
    enforceSSL: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const state = new dynamodb.Table(stack, 'State', {
    tableName: 'user-state',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: 'ttl',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  for (const [id, module] of [
    ['Views', 'upgradeViewsCount.ts'],
    ['Small', 'smallPipeline.ts'],
  ] as const)
    new ShardflowPipeline(stack, id, {
      entry: join(FIXTURES, module),
      resultsBucket: lake,
      stateTable: state,
      analytics: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  return {
    template: join(app.synth().directory, stack.templateFile),
    bucket: 'user-lake',
    table: 'user-state',
  };
}

async function put(stream: string, records: readonly object[], key: (r: object) => string): Promise<void> {
  const out = await createClients().kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: records.map((r) => ({ PartitionKey: key(r), Data: Buffer.from(JSON.stringify(r)) })),
    }),
  );
  expect(out.FailedRecordCount ?? 0).toBe(0);
}

describe("two ShardflowPipelines in a user's stack, given the user's bucket and table, on the local deployer", () => {
  let dir: string;
  let running: RunningDeployment | undefined;

  beforeAll(() => {
    const scratch = join(ROOT, '.shardflow');
    mkdirSync(scratch, { recursive: true });
    dir = mkdtempSync(join(scratch, 'user-stack-int-'));
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when records reach both streams, each pipeline applies its own into its partitions of the user table and its prefixes of the user bucket', async () => {
    const { template, bucket, table } = synth(dir);
    running = await deployAndRun(template, {
      cloud: cloud(),
      checkpoints: new MemoryCheckpointStore(),
      runtime: { pollIntervalMs: 50, shardDiscoveryIntervalMs: 200, retryBackoffMs: 10 },
      log: () => undefined,
    });
    // The deployment created the user's bucket and table, and no other.
    expect(running.deployment.tables.map((t) => t.name)).toEqual([table]);

    const t0 = Date.now() - 3_600_000;
    await put(
      'upgrade-views',
      [1, 2, 3].map((n) => ({ user: `u${n % 2}`, ms: n, ts: t0 + n })),
      (r) => (r as { user: string }).user,
    );
    await put(
      'small-stream',
      [1, 2].map((n) => ({ k: `k${n}`, t: t0 + n })),
      (r) => (r as { k: string }).k,
    );
    await running.runtime.idle(30_000);

    const store = new DynamoDBStateStore({ tableName: table, client: createClients().dynamoDb });
    const applied = async (pipeline: string) =>
      (await store.readProgress(pipeline)).shards.reduce((n, s) => n + (s.counts?.records ?? 0), 0);
    expect([await applied('upgrade-views'), await applied('small')]).toEqual([3, 2]);

    const listed = await createClients().s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'clean/' }),
    );
    const streams = new Set((listed.Contents ?? []).map((o) => o.Key!.split('/')[1]));
    expect([...streams].sort()).toEqual(['small-stream', 'upgrade-views']);
  }, 120_000);
});
