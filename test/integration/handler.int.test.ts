import { randomUUID } from 'node:crypto';
import { kinesisSource } from '../../functions/adapters/kinesisSource';
import { operatorHandler } from '../../functions/handlers/operatorHandler';
import { tickHandler } from '../../functions/handlers/tickHandler';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ENV } from '../../functions/core/constants';
import { useLocalCloud } from '../helpers/localCloud';
import { createBucket, createStateTable, mirrorPrefix } from '../faults/localResources';
import { createActiveStream } from '../helpers/streamRoundTrip';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

useLocalCloud();

const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2026, 2, 3, 4, 0, 0);
const TABLE = `handler-state-${process.pid}`;
const BUCKET = `handler-results-${process.pid}`;

function kinesisRecord(seq: number, payload: unknown): KinesisStreamRecord {
  const data = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString(
    'base64',
  );
  // Records arrive when they happen (a shard's watermark never runs ahead of arrival time).
  const ts =
    typeof payload === 'object' && payload !== null && 'ts' in payload ? Date.parse(String(payload.ts)) : T0;
  return {
    eventID: `${SHARD}:${seq}`,
    eventName: 'aws:kinesis:record',
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/clickstream',
    awsRegion: 'us-east-1',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/operator',
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: 'p',
      sequenceNumber: String(seq),
      data,
      approximateArrivalTimestamp: ts / 1000,
    },
  };
}

function pageEvent(i: number, page: string, ts: number) {
  return {
    eventId: randomUUID(),
    userId: `u${i % 5}`,
    sessionId: 's',
    page,
    action: i % 3 === 0 ? 'purchase' : 'view',
    country: 'FR',
    device: 'desktop',
    durationMs: i * 10,
    revenue: i % 3 === 0 ? 2.5 : 0,
    ts: new Date(ts).toISOString(),
  };
}

describe('operator and tick handlers on the local cloud', () => {
  let operator: ReturnType<typeof operatorHandler>;
  let tick: ReturnType<typeof tickHandler>;
  let dir: string;

  beforeAll(async () => {
    const clients = createClients();
    await createStateTable(clients.dynamoDb, TABLE);
    await createBucket(clients.s3, BUCKET);
    Object.assign(process.env, {
      [ENV.PIPELINE]: 'page-activity',
      [ENV.STATE_TABLE]: TABLE,
      [ENV.RESULTS_BUCKET]: BUCKET,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    operator = operatorHandler(pageActivity, { source: kinesisSource });
    tick = tickHandler(pageActivity, { source: kinesisSource });
    dir = await mkdtemp(join(tmpdir(), 'shardflow-handler-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('when batches arrive and the watermark passes, Parquet rows in S3 equal the input aggregated, bad records are dead-lettered and a redelivery changes nothing', async () => {
    const events = Array.from({ length: 60 }, (_, i) =>
      pageEvent(i, i % 2 === 0 ? '/a' : '/b', T0 + i * 1_000),
    );
    const batch: KinesisStreamEvent = {
      Records: [
        ...events.map((e, i) => kinesisRecord(i + 1, e)),
        kinesisRecord(61, '{not json'),
        kinesisRecord(62, { eventId: 'x' }),
      ],
    };
    expect(await operator(batch)).toEqual({ batchItemFailures: [] });
    expect(await operator(batch)).toEqual({ batchItemFailures: [] });
    // An event 2 minutes later moves the shard watermark past end + 30 s lateness of the first minute.
    expect(await operator({ Records: [kinesisRecord(63, pageEvent(63, '/c', T0 + 120_000))] })).toEqual({
      batchItemFailures: [],
    });
    // page-activity is provisioned with 2 shards: nothing closes until the second one reports too.
    expect(await mirrorPrefix(createClients().s3, BUCKET, 'results/', dir)).toEqual([]);
    const second = {
      ...kinesisRecord(1, pageEvent(64, '/c', T0 + 120_000)),
      eventID: 'shardId-000000000001:1',
    };
    expect(await operator({ Records: [second] })).toEqual({ batchItemFailures: [] });
    // Shard 0 froze nothing while shard 1 was unknown: the tick raises its close mark, and the window closes.
    await expect(tick()).resolves.toMatchObject({ windowsEmitted: 1 });

    const s3 = createClients().s3;
    const results = await mirrorPrefix(s3, BUCKET, 'results/', dir);
    expect(results).toEqual([
      `results/page_activity_minutely/dt=2026-03-03/hour=04/${T0}-${T0 + 60_000}.parquet`,
    ]);
    const rejected = await mirrorPrefix(s3, BUCKET, 'rejected/', dir);
    expect(rejected).toHaveLength(1);
    const clean = await mirrorPrefix(s3, BUCKET, 'clean/', dir);
    expect(clean).toHaveLength(3); // one object per commit: two batches of shard 0, one of shard 1

    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const rows = (
        await connection.runAndReadAll(
          `SELECT page, epoch_ms(window_start), events, purchases, revenue, max_duration_ms FROM read_parquet('${dir}/results/**/*.parquet', hive_partitioning = true) ORDER BY page`,
        )
      ).getRows();
      const expected = ['/a', '/b'].map((page) => {
        const mine = events.filter((e) => e.page === page);
        return [
          page,
          BigInt(T0),
          BigInt(mine.length),
          BigInt(mine.filter((e) => e.action === 'purchase').length),
          mine.reduce((s, e) => s + e.revenue, 0),
          Math.max(...mine.map((e) => e.durationMs)),
        ];
      });
      expect(rows).toEqual(expected);
      const archived = (
        await connection.runAndReadAll(
          `SELECT count(*), count(DISTINCT (shardId, sequenceNumber)) FROM read_json_auto('${dir}/clean/**/*.jsonl')`,
        )
      ).getRows();
      expect(archived).toEqual([[62n, 62n]]);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });

  test('when the state table cannot be reached, it reports the batch from its first record as failed', async () => {
    const saved = process.env[ENV.STATE_TABLE];
    process.env[ENV.STATE_TABLE] = `missing-${process.pid}`;
    // A new handler reads the changed environment at once, as a new Lambda instance would.
    const broken: typeof operator | undefined = operatorHandler(pageActivity, { source: kinesisSource });
    process.env[ENV.STATE_TABLE] = saved;
    const batch: KinesisStreamEvent = {
      Records: [kinesisRecord(500, pageEvent(1, '/x', T0)), kinesisRecord(501, pageEvent(2, '/x', T0))],
    };
    expect(await broken?.(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: '500' }] });
  });

  test('when the tick knows the source stream, it registers shards that have delivered nothing so they hold the watermark until idle', async () => {
    const { kinesis } = createClients();
    const stream = `tick-source-${process.pid}`;
    await createActiveStream(kinesis, stream, 2);
    const table = `tick-state-${process.pid}`;
    await createStateTable(createClients().dynamoDb, table);
    const saved = { table: process.env[ENV.STATE_TABLE], stream: process.env[ENV.STREAM_NAME] };
    Object.assign(process.env, { [ENV.STATE_TABLE]: table, [ENV.STREAM_NAME]: stream });
    const isolatedTick: typeof tick | undefined = tickHandler(pageActivity, { source: kinesisSource });
    process.env[ENV.STATE_TABLE] = saved.table;
    if (saved.stream === undefined) delete process.env[ENV.STREAM_NAME];
    else process.env[ENV.STREAM_NAME] = saved.stream;
    await expect(isolatedTick?.()).resolves.toEqual({ watermark: null, windowsEmitted: 0 });
    const progress = await new DynamoDBStateStore({
      tableName: table,
      client: createClients().dynamoDb,
    }).readProgress('page-activity');
    expect(progress.shards.map((s) => [s.shardId, s.watermark, s.version])).toEqual([
      ['shardId-000000000000', null, 1],
      ['shardId-000000000001', null, 1],
    ]);
  });
});
