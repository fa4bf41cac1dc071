/**
 * End to end on the local cloud (embedded emulators, or LocalStack with SHARDFLOW_TARGET=localstack): a CDK app synthesized here (Kinesis stream, a
 * `lambda.Function` from the recordingHandler fixture, an event source mapping, a bucket, a table, a
 * queue, a schedule) is deployed by the local deployer; records put on the stream reach the bundled
 * handler, running in a worker with the template's environment (and each emulator's own endpoint), in
 * per-key order.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createClients } from '../../functions/adapters/aws';
import {
  deployAndRun,
  Deployer,
  planDeployment,
  readStackArtifact,
  type RunningDeployment,
} from '../../localstack/deployer';
import { MemoryCheckpointStore } from '../../localstack/eventSourceMapping';
import { synthEsmTestApp } from '../helpers/fixtures/esmTestApp';
import { KINESIS_EVENT_RECORD_KEYS } from '../helpers/kinesisEventRecord';
import { useTargetCloud } from '../helpers/fixtures/targetCloud';

// SHARDFLOW_TARGET=localstack runs the same deployer and runtime against LocalStack's services.
const cloud = useTargetCloud();

interface Received {
  readonly records: { partitionKey: string; sequenceNumber: string; data: string }[];
  readonly functionName: string;
  readonly eventSourceARN: string;
  readonly keys: string[];
  readonly tableName: string;
  readonly endpoints: Readonly<Record<'kinesis' | 'dynamodb' | 's3', string | null>>;
}

async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('deployAndRun on the embedded local cloud', () => {
  let dir: string;
  let templatePath: string;
  let app: RunningDeployment;

  beforeAll(async () => {
    const scratch = join(__dirname, '../../.shardflow');
    mkdirSync(scratch, { recursive: true });
    dir = mkdtempSync(join(scratch, 'esm-int-'));
    templatePath = synthEsmTestApp(join(dir, 'cdk.out'));
    app = await deployAndRun(templatePath, {
      cloud: cloud(),
      checkpoints: new MemoryCheckpointStore(),
      runtime: { pollIntervalMs: 50, shardDiscoveryIntervalMs: 200, retryBackoffMs: 10 },
      log: () => undefined,
    });
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function receivedObjects(bucket: string, prefix: string): Promise<string[]> {
    const { s3 } = createClients();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key as string);
  }

  async function readJson<T>(bucket: string, key: string): Promise<T> {
    const { s3 } = createClients();
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(
      await (object.Body as { transformToString(): Promise<string> }).transformToString(),
    ) as T;
  }

  it('when records are put, it invokes the bundled handler with them in per-key order and the template environment', async () => {
    const { deployment } = app;
    const stream = deployment.streams[0];
    const bucket = deployment.buckets[0];
    if (stream === undefined || bucket === undefined)
      throw new Error('stream or bucket missing from the deployment');
    const keys = ['alpha', 'beta', 'gamma', 'delta'];
    const entries = Array.from({ length: 40 }, (_, i) => ({
      PartitionKey: keys[i % keys.length] as string,
      Data: Buffer.from(`${keys[i % keys.length]}:${Math.floor(i / keys.length)}`),
    }));
    const { kinesis } = createClients();
    const put = await kinesis.send(new PutRecordsCommand({ StreamName: stream.name, Records: entries }));
    expect(put.FailedRecordCount ?? 0).toBe(0);

    await app.runtime.idle(30_000);
    const batches = await pollUntil('40 received records', 10_000, async () => {
      const keysInS3 = await receivedObjects(bucket.name, 'received/');
      const all = await Promise.all(keysInS3.map((key) => readJson<Received>(bucket.name, key)));
      return all.flatMap((b) => b.records).length >= 40 ? all : undefined;
    });
    const records = batches.flatMap((b) => b.records);
    expect(records).toHaveLength(40);
    for (const key of keys) {
      const ofKey = records
        .filter((r) => r.partitionKey === key)
        .sort((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1));
      expect(ofKey.map((r) => r.data)).toEqual(Array.from({ length: 10 }, (_, i) => `${key}:${i}`));
    }
    const first = batches[0] as Received;
    expect(first.eventSourceARN).toBe(stream.arn);
    expect(first.functionName).toBe(deployment.functions[0]?.functionName);
    expect(first.tableName).toBe(deployment.tables[0]?.name);
    // The embedded cloud's functions reach each emulator directly; LocalStack's through its edge only.
    expect(first.endpoints).toEqual(cloud().endpoints ?? { kinesis: null, dynamodb: null, s3: null });
    expect(first.keys).toEqual(KINESIS_EVENT_RECORD_KEYS);
    expect(batches.every((b) => b.records.length <= 10)).toBe(true);
  }, 60_000);

  it('when a record keeps failing, it bisects, exhausts the retry and writes the failure record to the S3 destination', async () => {
    const { deployment } = app;
    const stream = deployment.streams[0];
    const bucket = deployment.buckets[0];
    const mapping = deployment.mappings[0];
    if (stream === undefined || bucket === undefined || mapping === undefined)
      throw new Error('deployment incomplete');
    const { kinesis } = createClients();
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream.name,
        Records: ['ok-1', 'poison', 'ok-2'].map((data) => ({
          PartitionKey: 'same-key',
          Data: Buffer.from(data),
        })),
      }),
    );
    await app.runtime.idle(30_000);
    const failureKeys = await pollUntil('a failure record', 10_000, async () => {
      const found = await receivedObjects(bucket.name, `aws/lambda/${mapping.uuid}/`);
      return found.length > 0 ? found : undefined;
    });
    expect(failureKeys).toHaveLength(1);
    expect(failureKeys[0]).toMatch(
      new RegExp(
        `^aws/lambda/${mapping.uuid}/shardId-\\d{12}/\\d{4}/\\d\\d/\\d\\d/\\d{4}-\\d\\d-\\d\\dT\\d\\d\\.\\d\\d\\.\\d\\d-[0-9a-f-]{36}$`,
      ),
    );
    const failure = await readJson<{
      requestContext: { condition: string; approximateInvokeCount: number };
      KinesisBatchInfo: { batchSize: number; streamArn: string };
      payload: { Records: { kinesis: { data: string } }[] };
    }>(bucket.name, failureKeys[0] as string);
    expect(failure.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 2,
    });
    expect(failure.KinesisBatchInfo).toMatchObject({ batchSize: 1, streamArn: stream.arn });
    expect(failure.payload.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString())).toEqual([
      'poison',
    ]);
    const delivered = (
      await Promise.all(
        (await receivedObjects(bucket.name, 'received/')).map((key) => readJson<Received>(bucket.name, key)),
      )
    )
      .flatMap((b) => b.records)
      .filter((r) => r.partitionKey === 'same-key')
      .map((r) => r.data);
    expect(delivered.sort()).toEqual(['ok-1', 'ok-2']);
  }, 60_000);

  it('when the same template is deployed again, it succeeds without changing anything, and the table has its GSI', async () => {
    const artifact = readStackArtifact(templatePath);
    const plan = planDeployment(
      artifact.template,
      { stackName: artifact.stackName, sqsBaseUrl: cloud().endpoint },
      artifact.locateAsset,
    );
    const clients = createClients();
    const redeployed = await new Deployer({
      kinesis: clients.kinesis,
      dynamoDb: clients.dynamoDb,
      s3: clients.s3,
    }).deploy(plan);
    expect(redeployed.streams.map((s) => s.name)).toEqual(app.deployment.streams.map((s) => s.name));
    expect(redeployed.localQueues).toEqual([plan.queues[0]?.name]);
    const table = await clients.dynamoDb.send(new DescribeTableCommand({ TableName: plan.tables[0]?.name }));
    expect(table.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['open-windows']);
  }, 30_000);
});
