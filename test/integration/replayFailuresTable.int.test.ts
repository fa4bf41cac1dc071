/**
 * `shardflow replay-failures` for a table source (change data capture), run through the installed bin
 * against the embedded local cloud: an `orders` table with a NEW_AND_OLD_IMAGES stream on DynamoDB Local,
 * changes written and read back with the local event source mapping's reader, the batches around a skipped
 * one applied through the real `BatchProcessor`, and the skipped one's on-failure record (`DDBStreamBatchInfo`)
 * written as the local event source mapping writes it. The bin reads the range back from the table's stream
 * and applies what no commit applied exactly once; the revenue per region then equals applying every change.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createClients } from '../../functions/adapters/aws';
import { decodeDynamoDBStreamEvent } from '../../functions/adapters/dynamoDBStreamEventCodec';
import { describeTableStreamShards, TableShardResolver } from '../../functions/adapters/tableStreamShards';
import type { StatefulPipeline } from '../../functions/core/state/types';
import {
  buildStreamEvent,
  buildStreamFailureRecord,
  S3FailureDestination,
  SdkDynamoDBStreamReader,
  type KinesisRecordData,
} from '../../localstack/eventSourceMapping';
import { orderItem } from '../helpers/dynamoStreamRecords';
import { runCli as cli } from '../helpers/cli';
import { useLocalCloud } from '../helpers/localCloud';
import { orderRevenue } from '../helpers/orderRevenue';
import { statefulCloudRun } from '../helpers/statefulCloud';

// hyparquet-writer is ESM only; jest's CommonJS runtime loads it through the fault suite's interop shim.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

const ROOT = join(__dirname, '..', '..');
const PIPELINE_MODULE = join(ROOT, 'test', 'fixtures', 'pipelines', 'orderRevenue.ts');
const TABLE = 'orders-replay';
const MAPPING = '0c5e7a3b-2d41-4f6a-8b9c-7e1d2f3a4b5c';
const PREFIX = `aws/lambda/${MAPPING}/`;

const cloud = useLocalCloud();

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const listed = await createClients().s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

/** One change written, as the reference adds it up: what it adds to its region's revenue. */
interface Change {
  readonly region: string;
  readonly delta: number;
}

/** 30 changes: 12 inserts, 10 amount updates, 8 deletes; returns them in order. */
async function writeChanges(table: string): Promise<Change[]> {
  const { dynamoDb } = createClients();
  const regions = ['eu', 'us', 'ap'];
  const amounts = new Map<number, number>();
  const changes: Change[] = [];
  for (let i = 0; i < 30; i++) {
    if (i < 12) {
      const amount = 10 + 7 * i;
      await dynamoDb.send(
        new PutItemCommand({ TableName: table, Item: orderItem(`o${i}`, regions[i % 3]!, amount) as never }),
      );
      amounts.set(i, amount);
      changes.push({ region: regions[i % 3]!, delta: amount });
    } else if (i < 22) {
      const o = i - 12;
      const amount = amounts.get(o)! + 5 + o;
      await dynamoDb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { orderId: { S: `o${o}` } },
          UpdateExpression: 'SET amount = :a',
          ExpressionAttributeValues: { ':a': { N: String(amount) } },
        }),
      );
      changes.push({ region: regions[o % 3]!, delta: amount - amounts.get(o)! });
      amounts.set(o, amount);
    } else {
      const o = i - 22;
      await dynamoDb.send(new DeleteItemCommand({ TableName: table, Key: { orderId: { S: `o${o}` } } }));
      changes.push({ region: regions[o % 3]!, delta: -amounts.get(o)! });
      amounts.delete(o);
    }
  }
  return changes;
}

describe('shardflow replay-failures on a table source', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-replay-cdc-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("when the mapping skipped a batch of the table's stream, the bin reads it back and applies what no commit applied exactly once; a second run finds nothing", async () => {
    const clients = createClients();
    const created = await clients.dynamoDb.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    const streamArn = created.TableDescription!.LatestStreamArn!;
    // Every change in one minute of change time: a window closed between the parts would make the replayed
    // records late (counted in late/, not in the rows), which is right but not what this test compares.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    const changes = await writeChanges(TABLE);

    // Read back as the local event source mapping reads it, each record as Lambda's event carries it.
    const reader = new SdkDynamoDBStreamReader(clients.dynamoDbStreams);
    const shards = await reader.listShards(streamArn);
    expect(shards).toHaveLength(1);
    const shardId = shards[0]!.shardId;
    const read: KinesisRecordData[] = [];
    let iterator: string | undefined = await reader.getShardIterator(streamArn, shardId, {
      type: 'TRIM_HORIZON',
    });
    for (let page = 0; iterator !== undefined && read.length < 30 && page < 50; page++) {
      const got = await reader.getRecords(iterator, 1000);
      read.push(...got.records);
      iterator = got.nextShardIterator;
    }
    expect(read).toHaveLength(30);
    const context = {
      shardId,
      streamArn,
      region: 'us-east-1',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/operator',
    };
    // The operator's decoding of Lambda's event for these records (the shard found by DescribeStream).
    const resolver = new TableShardResolver((arn) => describeTableStreamShards(clients.dynamoDbStreams, arn));
    const records = await decodeDynamoDBStreamEvent(
      buildStreamEvent(read, context),
      'NEW_AND_OLD_IMAGES',
      resolver,
    );
    expect(records.map((r) => [r.shardId, r.rejection])).toEqual(read.map(() => [shardId, undefined]));

    const pipeline = orderRevenue() as unknown as StatefulPipeline;
    const state = await statefulCloudRun(pipeline, Date.now());
    const operator = state.instance();
    // 0..11 committed (the first attempt at a batch of 10..19 reported item failures from 12 on), then the
    // batch 10..19 failed every retry: Lambda wrote its on-failure record and moved on to 20..29.
    await operator.apply(records.slice(0, 12));
    await operator.apply(records.slice(20));
    const record = buildStreamFailureRecord({
      records: read.slice(10, 20),
      context,
      requestId: randomUUID(),
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:operator',
      condition: 'RetryAttemptsExhausted',
      invokeCount: 3,
      now: Date.now(),
    });
    expect(record).toHaveProperty('DDBStreamBatchInfo.streamArn', streamArn);
    await new S3FailureDestination(clients.s3, state.bucket).send(MAPPING, record, { Records: [] });
    expect(await keys(state.bucket, PREFIX)).toHaveLength(1);

    const env = { ...process.env, AWS_ENDPOINT_URL: cloud().endpoint, SHARDFLOW_STATE_DIR: dir };
    const flags = ['--pipeline', PIPELINE_MODULE, '--bucket', state.bucket, '--state-table', state.table];
    // A table source's stream output is its table's stream ARN.
    writeFileSync(
      join(dir, 'outputs.json'),
      JSON.stringify({ FailurePrefixOrderRevenue: PREFIX, StreamNameOrderRevenue: streamArn }),
    );
    const range = `order-revenue ${shardId} ${read[10]!.sequenceNumber}..${read[19]!.sequenceNumber}`;

    const dry = await cli(['replay-failures', ...flags, '--dry-run'], env);
    expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: '' });
    expect(dry.stdout).toContain(`${range}: 10 records in the stream (dry run: nothing applied)`);
    expect(dry.stdout).toContain('1 of 1 skipped batches readable.');
    expect(await keys(state.bucket, PREFIX)).toHaveLength(1);

    const replayed = await cli(['replay-failures', ...flags], env);
    expect({ code: replayed.code, stderr: replayed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(replayed.stdout).toContain(
      `${range}: 10 records, 2 already applied, 8 applied as ${shardId}.replay-`,
    );
    expect(replayed.stdout).toContain('(0 rejected, 0 late, 0 duplicate events)');
    expect(replayed.stdout).toContain('1 of 1 skipped batches replayed.');
    expect(await keys(state.bucket, PREFIX)).toEqual([]);
    expect(await keys(state.bucket, 'failed-batches/replayed/aws/lambda/')).toHaveLength(1);

    const again = await cli(['replay-failures', ...flags], env);
    expect({ code: again.code, stdout: again.stdout }).toEqual({
      code: 0,
      stdout: 'No skipped batches to replay.\n',
    });

    // Every window closes: the rows equal applying every change once.
    await state.instance().tick(Number.POSITIVE_INFINITY);
    expect(await state.rejected()).toEqual([]);
    expect(await state.late()).toEqual([]);
    const rows = await state.rows('region, revenue, changes');
    const total = (region: string, of: (r: Record<string, unknown>) => number) =>
      rows.filter((r) => r.region === region).reduce((n, r) => n + of(r), 0);
    for (const region of ['eu', 'us', 'ap']) {
      const mine = changes.filter((c) => c.region === region);
      expect([
        region,
        total(region, (r) => Number(r.revenue)),
        total(region, (r) => Number(r.changes)),
      ]).toEqual([region, mine.reduce((n, c) => n + c.delta, 0), mine.length]);
    }
    expect(rows.reduce((n, r) => n + Number(r.changes), 0)).toBe(30);
    await state.dispose();
  }, 240_000);
});
