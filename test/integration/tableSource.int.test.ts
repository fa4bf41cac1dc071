/**
 * Change data capture through the local stack: an `orders` table with a NEW_AND_OLD_IMAGES stream on
 * DynamoDB Local; inserts, updates and deletes; the local event-source-mapping runtime polls the table's
 * stream (DescribeStream/GetShardIterator/GetRecords through the edge) and invokes the real operator handler
 * bundled like the stack bundles it, with crashes after the handler ran and duplicate deliveries injected,
 * with and without a tumbling window on the mapping (with one, as the stack deploys it, every event names
 * its shard and each window ends with a final invocation without records). The revenue per region equals a
 * DuckDB reference over the list of changes made; hostile stream records in a hand-made Lambda event are
 * dead-lettered with their reason and the batch succeeds; a hand-made window event is fenced by the shard it
 * names and answered with a state.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { createClients } from '../../functions/adapters/aws';
import { createOperatorRuntime } from '../../functions/adapters/operatorRuntime';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { ENV } from '../../functions/core/constants';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { StatefulPipeline } from '../../functions/core/state/types';
import type { Rejection } from '../../functions/core/types';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/emulators';
import {
  EventSourceMappingRuntime,
  MemoryCheckpointStore,
  SdkDynamoDBStreamReader,
  WorkerInvoker,
  type FunctionDefinition,
  type InvocationOutcome,
} from '../../localstack/eventSourceMapping';
import { createBucket, createStateTable } from '../bench/benchCloud';
import { bundleLikeTheStack } from '../bench/bundle';
import { mirrorPrefix } from '../faults/localResources';
import { orderItem, streamRecord } from '../helpers/dynamoStreamRecords';
import { useLocalCloud } from '../helpers/localCloud';
import { orderRevenue } from '../helpers/orderRevenue';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

const cloud = useLocalCloud();
const ROOT = join(__dirname, '../..');
const ACCOUNT = '000000000000';

const HANDLER_SOURCE = `
import { operatorHandler } from '${ROOT}/functions/handlers/operatorHandler';
import { tableSource } from '${ROOT}/functions/adapters/tableSource';
import { orderRevenue } from '${ROOT}/test/helpers/orderRevenue';
export const handler = operatorHandler(orderRevenue() as never, { source: tableSource });
`;

/** One change the test made, as the reference reads it. */
interface Change {
  readonly op: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly orderId: string;
  readonly region: string;
  readonly oldAmount: number;
  readonly newAmount: number;
}

async function createTableWithStream(table: string): Promise<string> {
  const { dynamoDb } = createClients();
  const out = await dynamoDb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const arn = out.TableDescription?.LatestStreamArn;
  if (arn === undefined) throw new Error(`table ${table} has no stream`);
  return arn;
}

/** Inserts, updates and deletes orders (a fixed pseudo-random plan); returns the changes made, in order. */
async function writeChanges(table: string): Promise<Change[]> {
  const { dynamoDb } = createClients();
  const regions = ['eu', 'us', 'ap'];
  const live = new Map<string, { region: string; amount: number }>();
  const changes: Change[] = [];
  let seed = 17;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 60; i++) {
    const ids = [...live.keys()];
    const pick = next(10);
    if (ids.length < 3 || pick < 5) {
      const orderId = `o${i}`;
      const region = regions[next(3)]!;
      const amount = 1 + next(500);
      await dynamoDb.send(
        new PutItemCommand({
          TableName: table,
          Item: orderItem(orderId, region, amount) as never,
        }),
      );
      live.set(orderId, { region, amount });
      changes.push({ op: 'INSERT', orderId, region, oldAmount: 0, newAmount: amount });
    } else if (pick < 8) {
      const orderId = ids[next(ids.length)]!;
      const before = live.get(orderId)!;
      const amount = before.amount + 1 + next(100);
      await dynamoDb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { orderId: { S: orderId } },
          UpdateExpression: 'SET amount = :a',
          ExpressionAttributeValues: { ':a': { N: String(amount) } },
        }),
      );
      live.set(orderId, { region: before.region, amount });
      changes.push({
        op: 'MODIFY',
        orderId,
        region: before.region,
        oldAmount: before.amount,
        newAmount: amount,
      });
    } else {
      const orderId = ids[next(ids.length)]!;
      const before = live.get(orderId)!;
      await dynamoDb.send(new DeleteItemCommand({ TableName: table, Key: { orderId: { S: orderId } } }));
      live.delete(orderId);
      changes.push({ op: 'REMOVE', orderId, region: before.region, oldAmount: before.amount, newAmount: 0 });
    }
  }
  return changes;
}

function processorFor(table: string, bucket: string): BatchProcessor {
  return new BatchProcessor({
    pipeline: orderRevenue() as unknown as StatefulPipeline,
    store: new DynamoDBStateStore({ tableName: table }),
    objects: new S3ObjectStore({ bucket }),
    encoder: new ParquetResultEncoder(),
    clock: { now: () => Date.now() },
  });
}

async function rejections(bucket: string): Promise<Rejection[]> {
  const { s3 } = createClients();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'rejected/' }));
  const out: Rejection[] = [];
  for (const object of listed.Contents ?? []) {
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))
    ).Body?.transformToString();
    for (const line of (body ?? '').split('\n').filter((l) => l.length > 0))
      out.push(JSON.parse(line) as Rejection);
  }
  return out;
}

describe('a table as a source (change data capture) through the local stack', () => {
  let dir: string;
  let invoker: WorkerInvoker;
  let bundle: string;
  /** Each test's runtime, stopped at the end (stopping one closes the invoker they share). */
  const runtimes: EventSourceMappingRuntime[] = [];

  const fnDef = (name: string, table: string, bucket: string): FunctionDefinition => ({
    functionName: name,
    functionArn: `arn:aws:lambda:${LOCAL_REGION}:${ACCOUNT}:function:${name}`,
    entryFile: bundle,
    exportName: 'handler',
    timeoutSeconds: 60,
    memorySize: 512,
    environment: { [ENV.PIPELINE]: 'order-revenue', [ENV.STATE_TABLE]: table, [ENV.RESULTS_BUCKET]: bucket },
    roleArn: `arn:aws:iam::${ACCOUNT}:role/cdc`,
    region: LOCAL_REGION,
  });

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.shardflow'), { recursive: true });
    // Inside the project, so the bundle resolves the external AWS SDK from node_modules as on Lambda.
    dir = mkdtempSync(join(ROOT, '.shardflow', 'cdc-int-'));
    writeFileSync(join(dir, 'cdcHandler.ts'), HANDLER_SOURCE);
    bundle = join(dir, 'operator', 'index.js');
    await bundleLikeTheStack(join(dir, 'cdcHandler.ts'), bundle);
    invoker = new WorkerInvoker({
      inheritOutput: false,
      environment: {
        AWS_ENDPOINT_URL: cloud().endpoint,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
  }, 60_000);

  afterAll(async () => {
    for (const runtime of runtimes) await runtime.stop();
    await invoker?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['without a tumbling window (the operator finds the shard with DescribeStream)', undefined, ''],
    [
      'with a tumbling window (every event names its shard, each window ends with a final invocation)',
      1,
      '-tw',
    ],
  ])(
    'when items are inserted, updated and deleted, %s, the revenue per region equals a DuckDB reference over the changes, despite crashes after the handler ran and duplicate deliveries',
    async (_, tumblingWindowInSeconds, suffix) => {
      const clients = createClients();
      const [state, results, orders] = [`cdc-state${suffix}`, `cdc-results${suffix}`, `orders${suffix}`];
      await createStateTable(clients.dynamoDb, state);
      await createBucket(clients.s3, results);
      const streamArn = await createTableWithStream(orders);
      const started = Date.now();
      const changes = await writeChanges(orders);
      const ended = Date.now();
      const fn = fnDef(`cdc-operator${suffix}`, state, results);
      const outcomes: InvocationOutcome[] = [];
      const events: Record<string, unknown>[] = [];
      let invocations = 0;
      const runtime = new EventSourceMappingRuntime({
        mappings: [
          {
            uuid: `cdc-orders${suffix}`,
            functionName: fn.functionName,
            eventSourceArn: streamArn,
            startingPosition: 'TRIM_HORIZON',
            batchSize: 7,
            bisectBatchOnFunctionError: true,
            maximumRetryAttempts: 3,
            functionResponseTypes: ['ReportBatchItemFailures'],
            ...(tumblingWindowInSeconds !== undefined ? { tumblingWindowInSeconds } : {}),
          },
        ],
        functions: [fn],
        dynamoDbStreams: new SdkDynamoDBStreamReader(clients.dynamoDbStreams),
        invoker,
        checkpoints: new MemoryCheckpointStore(),
        hooks: {
          // Every third first attempt runs the handler and then fails (Lambda redelivers the batch);
          // every fourth is delivered twice.
          beforeInvoke: (info) => {
            if (info.attempt !== 1) return undefined;
            invocations++;
            return invocations % 3 === 0 ? 'crashAfter' : invocations % 4 === 0 ? 'duplicate' : undefined;
          },
          onInvoke: (info, outcome) => {
            outcomes.push(outcome);
            events.push(info.event as unknown as Record<string, unknown>);
          },
        },
        pollIntervalMs: 50,
        retryBackoffMs: 10,
        log: () => undefined,
      });
      runtimes.push(runtime);
      await runtime.start();
      await runtime.idle(30_000);
      expect(invocations).toBeGreaterThanOrEqual(8);
      expect(outcomes.filter((o) => !o.ok)).not.toHaveLength(0);
      const [lag] = runtime.lag();
      expect(lag).toMatchObject({ pendingRecords: 0, state: 'polling' });
      const shards = (await clients.dynamoDbStreams.send(new DescribeStreamCommand({ StreamArn: streamArn })))
        .StreamDescription?.Shards;
      expect(shards).toHaveLength(1);
      const shardId = shards![0]!.ShardId!;
      if (tumblingWindowInSeconds !== undefined) {
        // Every event names the shard; the final invocations of the windows, without records, succeed with a
        // state (Lambda fails a window invocation answered without one).
        expect(events.every((e) => e['shardId'] === shardId && e['eventSourceARN'] === streamArn)).toBe(true);
        const finals = events.flatMap((e, i) =>
          e['isFinalInvokeForWindow'] === true ? [[(e['Records'] as unknown[]).length, outcomes[i]]] : [],
        );
        expect(finals.length).toBeGreaterThanOrEqual(1);
        expect(finals).toContainEqual([0, { ok: true, payload: { batchItemFailures: [], state: {} } }]);
        for (const outcome of outcomes.filter((o) => o.ok))
          expect(outcome).toMatchObject({ payload: { state: {} } });
      } else expect(events.some((e) => 'shardId' in e || 'window' in e)).toBe(false);
      // One fence, the stream's one shard.
      const progress = await new DynamoDBStateStore({ tableName: state }).readProgress('order-revenue');
      expect(progress.shards.map((p) => p.shardId)).toEqual([shardId]);

      // Every window closes now (as `deploy --drain` does): the last minute has no later change to close it.
      await processorFor(state, results).drain();
      expect(await rejections(results)).toEqual([]);

      await mirrorPrefix(clients.s3, results, 'results/', join(dir, `mirror${suffix}`));
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      try {
        await connection.run(
          'CREATE TABLE changes (op VARCHAR, order_id VARCHAR, region VARCHAR, old_amount DOUBLE, new_amount DOUBLE)',
        );
        await connection.run(
          `INSERT INTO changes VALUES ${changes
            .map((c) => `('${c.op}', '${c.orderId}', '${c.region}', ${c.oldAmount}, ${c.newAmount})`)
            .join(', ')}`,
        );
        const reference = (
          await connection.runAndReadAll(
            `SELECT region, sum(new_amount - old_amount), count(*) FROM changes GROUP BY region ORDER BY region`,
          )
        ).getRows();
        const rows = `read_parquet('${dir}/mirror${suffix}/results/order_revenue_minutely/**/*.parquet', hive_partitioning = true)`;
        const actual = (
          await connection.runAndReadAll(
            `SELECT region, sum(revenue), sum(changes) FROM ${rows} GROUP BY region ORDER BY region`,
          )
        ).getRows();
        expect(actual.map(([r, rev, n]) => [r, Number(rev), Number(n)])).toEqual(
          reference.map(([r, rev, n]) => [r, Number(rev), Number(n)]),
        );
        expect(changes.filter((c) => c.op === 'MODIFY').length).toBeGreaterThan(5);
        expect(changes.filter((c) => c.op === 'REMOVE').length).toBeGreaterThan(5);
        // One row per (region, minute) of change time, every minute within the writes.
        const windows = (
          await connection.runAndReadAll(
            `SELECT epoch_ms(window_start), epoch_ms(window_end), count(*) FROM ${rows} GROUP BY ALL`,
          )
        ).getRows();
        for (const [start, end, rows] of windows) {
          expect(Number(end) - Number(start)).toBe(60_000);
          expect(Number(end)).toBeGreaterThan(started - 1_000);
          expect(Number(start)).toBeLessThanOrEqual(ended + 1_000);
          expect(Number(rows)).toBeLessThanOrEqual(3);
        }
      } finally {
        connection.closeSync();
        db.closeSync();
      }
    },
    60_000,
  );

  it("when a DynamoDB-stream event carries hostile records, each is dead-lettered with its reason, the valid one counts and the batch succeeds; the tick lists the stream's open shards", async () => {
    const clients = createClients();
    await createStateTable(clients.dynamoDb, 'cdc-hostile-state');
    await createBucket(clients.s3, 'cdc-hostile-results');
    const streamArn = await createTableWithStream('orders-hostile');
    const shard = (await clients.dynamoDbStreams.send(new DescribeStreamCommand({ StreamArn: streamArn })))
      .StreamDescription?.Shards?.[0];
    // The tick's view of a table source: its stream's open shards (DescribeStream on the configured ARN).
    const tickRuntime = createOperatorRuntime('cdc-tick', orderRevenue() as unknown as StatefulPipeline, {
      [ENV.STATE_TABLE]: 'cdc-hostile-state',
      [ENV.RESULTS_BUCKET]: 'cdc-hostile-results',
      [ENV.STREAM_NAME]: streamArn,
    });
    expect(await tickRuntime.listOpenShards()).toEqual([shard!.ShardId]);
    const first = BigInt(shard!.SequenceNumberRange!.StartingSequenceNumber!);
    const seq = (i: number) => String(first + BigInt(i));
    const now = Math.floor(Date.now() / 1000);
    const item = orderItem('o1', 'eu', 5);
    const records = [
      streamRecord('INSERT', seq(1), now, { NewImage: item }),
      streamRecord('MODIFY', seq(2), now, { NewImage: item }),
      streamRecord('INSERT', seq(3), 'soon', { NewImage: item }),
      streamRecord('INSERT', seq(4), now, { NewImage: item }, { SizeBytes: 5_000_000 }),
      streamRecord('INSERT', seq(5), now, { NewImage: { ...item, bad: { Q: '1' } } }),
      streamRecord('INSERT', 'not-a-number', now, { NewImage: item }),
    ].map((r) => ({ ...r, eventSourceARN: streamArn }));
    const fn = fnDef('cdc-hostile', 'cdc-hostile-state', 'cdc-hostile-results');
    await expect(invoker.invokeEvent(fn, { Records: records }, 'cdc-hostile-1')).resolves.toEqual({
      ok: true,
      payload: { batchItemFailures: [] },
    });
    // Delivered again (a retry): nothing is dead-lettered twice.
    await expect(invoker.invokeEvent(fn, { Records: records }, 'cdc-hostile-2')).resolves.toEqual({
      ok: true,
      payload: { batchItemFailures: [] },
    });
    const rejected = await rejections('cdc-hostile-results');
    expect(
      rejected
        .map((r) => [r.shardId, r.sequenceNumber, r.subSequenceNumber ?? 0, r.reason])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1])) || Number(a[2]) - Number(b[2])),
    ).toEqual([
      [shard!.ShardId, seq(2), 0, 'INVALID_CHANGE_RECORD'],
      [shard!.ShardId, seq(3), 0, 'INVALID_CHANGE_RECORD'],
      [shard!.ShardId, seq(4), 0, 'OVERSIZE_RECORD'],
      [shard!.ShardId, seq(5), 0, 'INVALID_CHANGE_RECORD'],
      [shard!.ShardId, seq(5), 1, 'INVALID_CHANGE_RECORD'],
    ]);
    const details = new Map(
      rejected.map((r) => [`${r.sequenceNumber}/${r.subSequenceNumber ?? 0}`, r.detail]),
    );
    expect(details.get(`${seq(2)}/0`)).toBe('MODIFY without OldImage on a NEW_AND_OLD_IMAGES stream');
    expect(details.get(`${seq(4)}/0`)).toMatch(/5000000 bytes \(SizeBytes\) exceeds 822782 bytes/);
    expect(details.get(`${seq(5)}/1`)).toMatch(/SequenceNumber "not-a-number"/);
    // The valid insert counts once.
    await processorFor('cdc-hostile-state', 'cdc-hostile-results').drain();
    await mirrorPrefix(clients.s3, 'cdc-hostile-results', 'results/', join(dir, 'hostile'));
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const rows = (
        await connection.runAndReadAll(
          `SELECT region, revenue, changes FROM read_parquet('${dir}/hostile/results/order_revenue_minutely/**/*.parquet', hive_partitioning = true)`,
        )
      ).getRows();
      expect(rows.map(([r, rev, n]) => [r, Number(rev), Number(n)])).toEqual([['eu', 5, 1]]);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  }, 40_000);
  it('when a window event names its shard, its records are fenced in that shard, not the one DescribeStream would give; its final invocation, without records, succeeds with a state; a hostile shardId fails the batch', async () => {
    const clients = createClients();
    await createStateTable(clients.dynamoDb, 'cdc-window-state');
    await createBucket(clients.s3, 'cdc-window-results');
    const streamArn = await createTableWithStream('orders-window');
    const shard = (await clients.dynamoDbStreams.send(new DescribeStreamCommand({ StreamArn: streamArn })))
      .StreamDescription?.Shards?.[0];
    const first = BigInt(shard!.SequenceNumberRange!.StartingSequenceNumber!);
    const now = Math.floor(Date.now() / 1000);
    // In the described shard's range, but Lambda names another shard: the named one is the batch's.
    const named = 'shardId-00000001767225600000-named';
    const window = (records: unknown[], extra: Record<string, unknown> = {}) => ({
      Records: records,
      window: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:15:00Z' },
      state: {},
      shardId: named,
      eventSourceARN: streamArn,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
      ...extra,
    });
    const records = [
      streamRecord('INSERT', String(first + 1n), now, { NewImage: orderItem('o1', 'eu', 5) }),
      streamRecord('MODIFY', String(first + 2n), now, { NewImage: orderItem('o1', 'eu', 7) }),
    ].map((r) => ({ ...r, eventSourceARN: streamArn }));
    const fn = fnDef('cdc-window', 'cdc-window-state', 'cdc-window-results');
    await expect(invoker.invokeEvent(fn, window(records), 'cdc-window-1')).resolves.toEqual({
      ok: true,
      payload: { batchItemFailures: [], state: {} },
    });
    await expect(
      invoker.invokeEvent(fn, window([], { isFinalInvokeForWindow: true }), 'cdc-window-2'),
    ).resolves.toEqual({ ok: true, payload: { batchItemFailures: [], state: {} } });
    const hostile = await invoker.invokeEvent(fn, window(records, { shardId: '../state' }), 'cdc-window-3');
    expect(hostile).toMatchObject({
      ok: false,
      errorMessage: expect.stringMatching(
        /The event's shardId "..\/state" does not start with a letter or digit/,
      ),
    });
    const progress = await new DynamoDBStateStore({ tableName: 'cdc-window-state' }).readProgress(
      'order-revenue',
    );
    expect(progress.shards.map((p) => p.shardId)).toEqual([named]);
    expect((await rejections('cdc-window-results')).map((r) => [r.shardId, r.sequenceNumber])).toEqual([
      [named, String(first + 2n)],
    ]);
  }, 40_000);
});
