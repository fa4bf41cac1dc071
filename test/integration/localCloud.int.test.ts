import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createClients, dynamoDbClient, kinesisClient } from '../../functions/adapters/aws';
import { probeDynamoDbFidelity } from '../bench/local/dynamoDbFidelity';
import { LocalCloudError, startLocalCloud } from '../../localstack/emulators/index';
import { synthEsmTestApp } from '../helpers/fixtures/esmTestApp';
import { useLocalCloud } from '../helpers/localCloud';
import { eventually as eventuallyTrue, processAlive } from '../helpers/processes';
import { readState, stateFilePath } from '../../localstack/emulators/stateFile';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'localstack', 'cli', 'bin.js');
const TIMEOUT_MS = 180_000;

interface ServiceClients {
  readonly kinesis: KinesisClient;
  readonly dynamoDb: DynamoDBClient;
  readonly s3: S3Client;
}

const eventually = (condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> =>
  eventuallyTrue(condition, timeoutMs, 50);

/** What the "plain AWS SDK script" does: stream round trip, conditional write, object round trip. */
async function exerciseServices(clients: ServiceClients, suffix: string): Promise<void> {
  const stream = `int-stream-${suffix}`;
  await clients.kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  expect(
    await eventually(async () => {
      const summary = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      return summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    }),
  ).toBe(true);
  const put = await clients.kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: ['a', 'b', 'c'].map((v) => ({ PartitionKey: v, Data: Buffer.from(`record-${v}`) })),
    }),
  );
  expect(put.FailedRecordCount).toBe(0);
  const shardId = (await clients.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards?.[0]
    ?.ShardId;
  const iterator = await clients.kinesis.send(
    new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
  );
  const got = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }));
  expect((got.Records ?? []).map((r) => Buffer.from(r.Data ?? []).toString())).toEqual([
    'record-a',
    'record-b',
    'record-c',
  ]);

  const table = `int-table-${suffix}`;
  await clients.dynamoDb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    }),
  );
  const conditionalPut = (version: number): PutItemCommand =>
    new PutItemCommand({
      TableName: table,
      Item: { pk: { S: 'window#1' }, version: { N: String(version) } },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  await clients.dynamoDb.send(conditionalPut(1));
  const failure = await clients.dynamoDb.send(conditionalPut(2)).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ConditionalCheckFailedException);
  expect((failure as ConditionalCheckFailedException).Item?.version).toEqual({ N: '1' });

  const bucket = `int-bucket-${suffix}`;
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await clients.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'results/dt=2026-01-01/a.json', Body: '{"ok":true}' }),
  );
  const object = await clients.s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'results/dt=2026-01-01/a.json' }),
  );
  expect(await object.Body?.transformToString()).toBe('{"ok":true}');
  await clients.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'results/dt=2026-01-02/b.json', Body: '{}' }),
  );
  const head = await clients.s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'results/dt=2026-01-01/a.json' }),
  );
  expect(head.ContentLength).toBe(11);
  const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'results/' }));
  expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([
    'results/dt=2026-01-01/a.json',
    'results/dt=2026-01-02/b.json',
  ]);
  const deleted = await clients.s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: [{ Key: 'results/dt=2026-01-01/a.json' }, { Key: 'results/dt=2026-01-02/b.json' }] },
    }),
  );
  expect(deleted.Errors ?? []).toEqual([]);
  expect((await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0);
}

describe('local cloud', () => {
  let stateDir: string;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, SHARDFLOW_STATE_DIR: stateDir });

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'shardflow-local-int-'));
  });
  afterAll(async () => {
    // Whatever a failed test left behind is stopped before the directory goes.
    await run(process.execPath, [BIN, 'local', 'down'], { env: env() }).catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
  });

  /** A foreground `local up` on a free edge port, its output ignored. */
  const spawnForegroundUp = (): ChildProcess =>
    spawn(process.execPath, [BIN, 'local', 'up', '--port', '0'], {
      env: env(),
      stdio: 'ignore',
    });

  /** Waits (up to 2 min) for the state file of a `local up`, then returns its emulators' pids: three. */
  async function upEmulators(): Promise<number[]> {
    expect(
      await eventually(
        async () => (await readState(stateFilePath(stateDir)).catch(() => undefined)) !== undefined,
        120_000,
      ),
    ).toBe(true);
    const state = await readState(stateFilePath(stateDir));
    const emulators = Object.values(state?.pids ?? {});
    expect(emulators).toHaveLength(3);
    return emulators;
  }

  it(
    'when started with `local up --detach`, a plain SDK script with only AWS_ENDPOINT_URL works, and `local down` leaves no process',
    async () => {
      const up = await run(process.execPath, [BIN, 'local', 'up', '--detach', '--port', '0'], { env: env() });
      expect(up.stdout).toContain('Running in the background');
      const state = await readState(stateFilePath(stateDir));
      if (state === undefined) throw new Error('local up --detach wrote no state file');
      const pids = [state.pid, ...Object.values(state.pids)];
      expect(pids.every(processAlive)).toBe(true);

      const status = await run(process.execPath, [BIN, 'local', 'status'], { env: env() });
      expect(status.stdout.match(/via edge: healthy/g)).toHaveLength(3);

      // Through the project's factory, configured from nothing but the endpoint variable.
      const viaFactory = createClients({ AWS_ENDPOINT_URL: state.endpoint, AWS_REGION: 'us-east-1' });
      // Through bare SDK clients: the SDK reads AWS_ENDPOINT_URL itself; only transport settings are given.
      const saved = { ...process.env };
      Object.assign(process.env, {
        AWS_ENDPOINT_URL: state.endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      });
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_SESSION_TOKEN;
      const handler = new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) });
      const bare: ServiceClients = {
        kinesis: new KinesisClient({ region: 'us-east-1', requestHandler: handler }),
        dynamoDb: new DynamoDBClient({ region: 'us-east-1' }),
        s3: new S3Client({
          region: 'us-east-1',
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }),
      };
      try {
        await exerciseServices(viaFactory, 'factory');
        await exerciseServices(bare, 'bare');
      } finally {
        process.env = saved;
        for (const client of [...Object.values(viaFactory), ...Object.values(bare)]) client.destroy();
      }

      const down = await run(process.execPath, [BIN, 'local', 'down'], { env: env() });
      expect(down.stdout).toContain(`local cloud stopped (pid ${state.pid})`);
      expect(await eventually(() => pids.every((pid) => !processAlive(pid)))).toBe(true);
      expect(await readState(stateFilePath(stateDir))).toBeUndefined();
      await expect(run(process.execPath, [BIN, 'local', 'status'], { env: env() })).rejects.toMatchObject({
        code: 1,
        stderr: 'shardflow: the local cloud is not running: start it with npx shardflow local up\n',
      });
    },
    TIMEOUT_MS,
  );

  it(
    'when a foreground `local up` gets SIGINT (Ctrl-C), it stops every emulator and removes its state file',
    async () => {
      const up = spawnForegroundUp();
      const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
      try {
        const emulators = await upEmulators();
        up.kill('SIGINT');
        expect(await exited).toBe(0);
        expect(emulators.filter(processAlive)).toEqual([]);
        expect(await readState(stateFilePath(stateDir))).toBeUndefined();
      } finally {
        up.kill('SIGKILL');
      }
    },
    TIMEOUT_MS,
  );

  it(
    'when a foreground `local up` is killed with SIGKILL (a crashed run), its emulators exit by themselves',
    async () => {
      const up = spawnForegroundUp();
      try {
        const emulators = await upEmulators();
        up.kill('SIGKILL');
        expect(await eventually(() => emulators.every((pid) => !processAlive(pid)))).toBe(true);
      } finally {
        up.kill('SIGKILL');
        await rm(stateFilePath(stateDir), { force: true });
      }
    },
    TIMEOUT_MS,
  );
});

describe('useLocalCloud fixture (startLocalCloud in beforeAll, stop in afterAll)', () => {
  const endpointBefore = process.env.AWS_ENDPOINT_URL;
  let pids: number[] = [];

  describe('while active', () => {
    const cloud = useLocalCloud();

    it(
      'when active, AWS_ENDPOINT_URL points at the edge, the factory singletons reach the emulators, and DynamoDB passes every fidelity check',
      async () => {
        pids = Object.values(cloud().pids);
        expect(pids.every(processAlive)).toBe(true);
        expect(process.env.AWS_ENDPOINT_URL).toBe(cloud().endpoint);
        expect(process.env.AWS_REGION).toBe('us-east-1');
        expect(await kinesisClient().config.endpoint?.()).toMatchObject({
          hostname: '127.0.0.1',
          port: Number(new URL(cloud().endpoint).port),
        });
        const checks = await probeDynamoDbFidelity(dynamoDbClient());
        expect(checks.filter((c) => !c.passed)).toEqual([]);
        expect(checks.length).toBeGreaterThanOrEqual(8);
      },
      TIMEOUT_MS,
    );
  });

  it('when the fixture has stopped, no emulator process is left and the environment is restored', async () => {
    expect(pids).toHaveLength(3);
    expect(await eventually(() => pids.every((pid) => !processAlive(pid)))).toBe(true);
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpointBefore);
  });
});

describe('startLocalCloud failure', () => {
  it(
    'when the edge port is taken, it fails with a clear message and stops the emulators it had started',
    async () => {
      const squatter = createServer();
      await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
      const port = (squatter.address() as AddressInfo).port;
      const before = emulatorPids();
      try {
        const error = await startLocalCloud({ edgePort: port }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LocalCloudError);
        expect((error as Error).message).toBe(
          `edge port ${port} is already in use (LocalStack or another local cloud?); choose another with --port, or 0 for any free port`,
        );
        expect(
          await eventually(() => emulatorPids().filter((pid) => !before.includes(pid)).length === 0),
        ).toBe(true);
      } finally {
        await new Promise((resolve) => squatter.close(resolve));
      }
    },
    TIMEOUT_MS,
  );
});

/** Emulator processes (Node.js with the loopback preload, or the DynamoDB Local JVM) that are children of this jest worker. */
function emulatorPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => /loopbackPreload|DynamoDbLocalLauncher/.test(line))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('an emulator that dies while the cloud is up', () => {
  it(
    'when the DynamoDB emulator is killed, the cloud reports it by service, pid and signal',
    async () => {
      const cloud = await startLocalCloud({ edgePort: 0 });
      try {
        process.kill(-cloud.pids.dynamodb, 'SIGKILL');
        const failure = await Promise.race([
          cloud.failed,
          new Promise<undefined>((resolve) => setTimeout(resolve, 15_000, undefined)),
        ]);
        expect(failure).toMatchObject({ service: 'dynamodb', pid: cloud.pids.dynamodb, signal: 'SIGKILL' });
        expect(failure?.message).toBe(
          `the dynamodb emulator (pid ${cloud.pids.dynamodb}) exited unexpectedly (signal SIGKILL)`,
        );
      } finally {
        await cloud.stop();
      }
    },
    TIMEOUT_MS,
  );

  it(
    'when the cloud is stopped, its emulators exiting is not a failure',
    async () => {
      const cloud = await startLocalCloud({ edgePort: 0 });
      await cloud.stop();
      const failure = await Promise.race([
        cloud.failed,
        new Promise<'none'>((resolve) => setTimeout(resolve, 1_000, 'none')),
      ]);
      expect(failure).toBe('none');
    },
    TIMEOUT_MS,
  );

  it(
    'when an emulator dies under a local session, the session stops its mappings and its guarded work fails naming the emulator',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'sf-dies-'));
      const { openLocalSession } = await import('../../localstack/start/localSession');
      const session = await openLocalSession({ templatePath: synthEsmTestApp(join(dir, 'cdk.out')) });
      try {
        expect(session.app.runtime.running).toBe(true);
        const work = session.guard(new Promise<never>(() => {}));
        process.kill(-session.cloud.pids.dynamodb, 'SIGKILL');
        const error = await work.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LocalCloudError);
        expect((error as Error).message).toMatch(
          /^the dynamodb emulator \(pid \d+\) exited unexpectedly \(signal SIGKILL\); the run stopped before any batch was retried against it \(nothing was discarded\)\. Start again\.$/,
        );
        expect(session.app.runtime.running).toBe(false);
      } finally {
        await session.stop();
        await rm(dir, { recursive: true, force: true });
      }
    },
    TIMEOUT_MS,
  );
});
