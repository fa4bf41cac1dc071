/**
 * A running pipeline changed mid-stream (issue 19), on the local cloud's DynamoDB and S3 through the real
 * operator and tick handlers: a compatible change (another filter), an evolvable one (an added column) and
 * an incompatible one drained first (`deploy --drain`: the gate asks the deployed tick function to drain).
 * Each case's Parquet rows equal a DuckDB reference computed over the raw input with the old definition up
 * to the switch and the new one after it.
 *
 * The redeploy itself is the switch from one handler to the other over the same table and bucket (what a
 * deploy changes is the code the functions run); driving the local deployer's synth twice per case would
 * take ~35 s of `cdk synth` alone.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { createOperatorRuntime, runtimePartsFor } from '../../functions/adapters/operatorRuntime';
import { ENV } from '../../functions/core/constants';
import type { AnyColumnAggregate } from '../../functions/core/aggregates/columnAggregate';
import { count, pipeline, sum, tumbling } from '../../functions/core/dsl';
import type { Duration } from '../../functions/core/duration';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { DRAIN_ACTION, type DrainResult } from '../../functions/core/state/drain';
import { sumCounts } from '../../functions/core/state/shardCounts';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { operatorHandler } from '../../functions/handlers/operatorHandler';
import { tickHandler } from '../../functions/handlers/tickHandler';
import { gateUpgrade, OPEN_WINDOW_CHOICE, type WindowDrainer } from '../../localstack/start/upgradeGate';
import type { OpenWindowChoice } from '../../functions/core/state/upgradeCheck';
import { createBucket, createStateTable, mirrorPrefix } from '../faults/localResources';
import { useLocalCloud } from '../helpers/localCloud';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

useLocalCloud();

const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2026, 2, 3, 4, 0, 0);
const TABLE = `upgrade-mid-${process.pid}`;
const BUCKET = `upgrade-mid-${process.pid}`;
/** Records 1..N, one a second from T0 + 1 s (windows of a minute: 59, 60, 60, 60 and 1 records). */
const N = 240;
/** The last record the old definition applies: mid-way through the window [T0 + 2 min, T0 + 3 min). */
const SWITCH = 150;
const BATCH = 30;

const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });
type V = z.infer<typeof View>;

function views(
  name: string,
  aggregates: Record<string, AnyColumnAggregate<V>>,
  keep: (v: V) => boolean = () => true,
  allowedLateness: Duration = '0s',
): StatefulPipeline {
  return pipeline(name)
    .source({ stream: 'views', shards: 1 })
    .clean({ schema: View, eventTime: (v) => v.ts })
    .filter(keep)
    .keyBy((v) => v.user, 'user')
    .window(tumbling('1m'), { allowedLateness, maxOutOfOrderness: '0s', idleTimeout: '1h' })
    .aggregate(aggregates)
    .sink({ table: name.replaceAll('-', '_') }) as unknown as StatefulPipeline;
}

const input = Array.from({ length: N }, (_, i) => {
  const seq = i + 1;
  return { seq, user: `u${seq % 3}`, ms: seq, ts: T0 + seq * 1_000 };
});

/**
 * Records after N whose event times go back into the first three windows (stragglers): 4 a window, the
 * first two of which close before the switch.
 */
const stragglers = Array.from({ length: 12 }, (_, i) => {
  const seq = N + 1 + i;
  return { seq, user: `u${seq % 3}`, ms: seq, ts: T0 + (5 + i * 15) * 1_000 };
});

function batches(from: number, to: number, rows = input): KinesisStreamEvent[] {
  const out: KinesisStreamEvent[] = [];
  const first = rows[0]!.seq;
  for (let start = from; start <= to; start += BATCH) {
    const records: KinesisStreamRecord[] = rows
      .slice(start - first, Math.min(to, start + BATCH - 1) - first + 1)
      .map(({ seq, user, ms, ts }) => ({
        eventID: `${SHARD}:${seq}`,
        eventName: 'aws:kinesis:record',
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/views',
        awsRegion: 'us-east-1',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/operator',
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: user,
          sequenceNumber: String(seq),
          data: Buffer.from(JSON.stringify({ user, ms, ts })).toString('base64'),
          approximateArrivalTimestamp: ts / 1000,
        },
      }));
    out.push({ Records: records });
  }
  return out;
}

function envOf(name: string): Record<string, string | undefined> {
  return {
    ...process.env,
    [ENV.PIPELINE]: name,
    [ENV.STATE_TABLE]: TABLE,
    [ENV.RESULTS_BUCKET]: BUCKET,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
}

/** Applies records `from..to` through the operator of `def`, batch by batch, as Lambda would deliver them. */
async function deliver(def: StatefulPipeline, from: number, to: number, rows = input): Promise<void> {
  const operator = operatorHandler(def, runtimePartsFor(def.spec), envOf(def.spec.name));
  for (const event of batches(from, to, rows))
    expect(await operator(event)).toEqual({ batchItemFailures: [] });
}

/** End of input under `def`: every window closes (as `endOfInput` of a local session does). */
async function endOfInput(def: StatefulPipeline): Promise<void> {
  const runtime = createOperatorRuntime('shardflow-test', def, envOf(def.spec.name));
  while ((await runtime.processor.tick(Number.POSITIVE_INFINITY)).windowsEmitted > 0);
}

let dir: string;
let db: DuckDBInstance;

beforeAll(async () => {
  // Powertools reads these from the process environment.
  Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const clients = createClients();
  await createStateTable(clients.dynamoDb, TABLE);
  await createBucket(clients.s3, BUCKET);
  dir = await mkdtemp(join(tmpdir(), 'shardflow-upgrade-'));
  await writeFile(join(dir, 'input.json'), JSON.stringify(input));
  await writeFile(join(dir, 'stragglers.json'), JSON.stringify(stragglers));
  db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`CREATE TABLE input AS SELECT * FROM read_json_auto('${dir}/input.json')`);
  await c.run(`CREATE TABLE stragglers AS SELECT * FROM read_json_auto('${dir}/stragglers.json')`);
  await c.run(
    `CREATE MACRO window_start(ts) AS ts - ts % 60000; CREATE MACRO window_end(ts) AS ts - ts % 60000 + 60000`,
  );
  c.closeSync();
});
afterAll(async () => {
  db?.closeSync();
  await rm(dir, { recursive: true, force: true });
});

/** The pre-deploy gate of `shardflow deploy` against the test table, for the new definition `next`. */
function gateNext(
  next: StatefulPipeline,
  choice: OpenWindowChoice = OPEN_WINDOW_CHOICE.NONE,
  drain?: WindowDrainer,
): Promise<string[]> {
  return gateUpgrade({
    clients: createClients(),
    stateTable: TABLE,
    pipelines: [next as unknown as CompiledPipeline<unknown>],
    choice,
    ...(drain === undefined ? {} : { drain }),
  });
}

/** `sql`'s rows as plain values (BigInt as number), sorted as the query sorts them. */
async function query(sql: string): Promise<unknown[][]> {
  const c = await db.connect();
  try {
    const rows = (await c.runAndReadAll(sql)).getRows();
    return rows.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
  } finally {
    c.closeSync();
  }
}

/** The result rows of `table` (every Parquet object, columns by name). */
async function results(table: string, columns: string): Promise<unknown[][]> {
  await mirrorPrefix(createClients().s3, BUCKET, `results/${table}/`, dir);
  return query(
    `SELECT ${columns} FROM read_parquet('${dir}/results/${table}/**/*.parquet', union_by_name = true, hive_partitioning = false) ORDER BY 1, 2`,
  );
}

/** Event time of the last record the old definition applied: windows ending at or before it closed under it. */
const SWITCH_TS = T0 + SWITCH * 1_000;

describe('a running pipeline changed mid-stream (DynamoDB Local, S3, the real handlers)', () => {
  test('a compatible change (another filter): the window open at the switch counts old records by the old filter and new ones by the new', async () => {
    const name = 'mid-compatible';
    const keepNew = (v: V) => v.ms % 4 !== 0;
    await deliver(views(name, { n: count(), total: sum((v) => v.ms) }), 1, SWITCH);
    const next = views(name, { n: count(), total: sum((v) => v.ms) }, keepNew);
    const gate = await gateNext(next);
    expect(gate).toEqual([`${name}: compatible with 1 open windows`]);
    await deliver(next, SWITCH + 1, N);
    await endOfInput(next);
    const reference = await query(`
      SELECT user, window_start(ts) AS ws, count(*) AS n, sum(ms)::DOUBLE AS total, NULL AS evolved
      FROM input WHERE seq <= ${SWITCH} OR ms % 4 <> 0
      GROUP BY ALL ORDER BY 1, 2`);
    // 5 windows × 3 users, but the last window holds record 240 (u0) alone, which the new filter drops.
    expect(reference).toHaveLength(12);
    expect(
      await results('mid_compatible', 'user, epoch_ms(window_start), n, total, evolved_columns'),
    ).toEqual(reference);
  });

  test('an evolvable change (an added column): windows open at the switch start it from its identity and name it in evolved_columns; windows closed before have no such column', async () => {
    const name = 'mid-evolvable';
    await deliver(views(name, { n: count() }), 1, SWITCH);
    const next = views(name, { n: count(), total: sum((v) => v.ms) });
    const gate = await gateNext(next);
    expect(gate).toEqual([
      `${name}: evolvable; total start from their identity in 1 open windows (named in evolved_columns)`,
    ]);
    await deliver(next, SWITCH + 1, N);
    await endOfInput(next);
    const reference = await query(`
      SELECT user, ws, count(*) AS n,
        CASE WHEN ws + 60000 <= ${SWITCH_TS} THEN NULL
             ELSE coalesce(sum(ms) FILTER (WHERE seq > ${SWITCH}), 0)::DOUBLE END AS total,
        CASE WHEN ws + 60000 > ${SWITCH_TS} AND count(*) FILTER (WHERE seq <= ${SWITCH}) > 0
             THEN 'total' END AS evolved
      FROM (SELECT *, window_start(ts) AS ws FROM input) GROUP BY user, ws ORDER BY 1, 2`);
    // Two windows closed under the old definition, one was open at the switch, two opened after it.
    expect(reference.filter((r) => r[4] === 'total')).toHaveLength(3);
    expect(await results('mid_evolvable', 'user, epoch_ms(window_start), n, total, evolved_columns')).toEqual(
      reference,
    );
  });

  test('an incompatible change with --drain: the deployed tick emits the open window under the old definition, the new one takes over after it, and records of the drained window arriving later are late', async () => {
    const name = 'mid-drain';
    const before = views(name, { n: count() });
    await deliver(before, 1, SWITCH);
    const next = views(name, { n: sum((v) => v.ms) });
    const refused = await gateNext(next).catch((e: unknown) => e);
    expect((refused as Error).message).toContain('deploy again with --drain');
    // The deployed (old) tick function, asked to drain by a direct invoke (as `deploy --drain` does).
    const deployedTick = tickHandler(before, runtimePartsFor(before.spec), envOf(name));
    const requests: unknown[] = [];
    const gate = await gateNext(next, OPEN_WINDOW_CHOICE.DRAIN, async (pipelineName, atLeast) => {
      expect(pipelineName).toBe(name);
      const request = { action: DRAIN_ACTION, ...(atLeast === undefined ? {} : { atLeast }) };
      requests.push(request);
      return (await deployedTick(request)) as DrainResult;
    });
    const drainedThrough = T0 + 3 * 60_000;
    // Through the deployed definition's own watermark: the shards' close marks keep drained windows closed
    // under any lateness the new definition has.
    expect(requests).toEqual([{ action: DRAIN_ACTION }]);
    expect(gate).toEqual([
      `${name}: incompatible (aggregate n changed from count to sum); drained 1 open windows under the deployed definition (1 emitted, through ${new Date(drainedThrough).toISOString()}); records for them that arrive later are late`,
    ]);
    await deliver(next, SWITCH + 1, N);
    await endOfInput(next);
    const reference = await query(`
      SELECT user, window_start(ts) AS ws, (CASE WHEN max(seq) <= ${SWITCH} THEN count(*) ELSE sum(ms) END)::DOUBLE AS n
      FROM input
      WHERE seq <= ${SWITCH} OR window_end(ts) > ${drainedThrough}
      GROUP BY ALL ORDER BY 1, 2`);
    expect(reference).toHaveLength(13);
    expect(await results('mid_drain', 'user, epoch_ms(window_start), n::DOUBLE')).toEqual(reference);
    const [late] = await query(
      `SELECT count(*) FROM input WHERE seq > ${SWITCH} AND window_end(ts) <= ${drainedThrough}`,
    );
    const store = new DynamoDBStateStore({ tableName: TABLE, client: createClients().dynamoDb });
    expect(sumCounts((await store.readProgress(name)).shards).late).toBe(late![0]);
    expect(late![0]).toBe(29);
  });

  test('a longer allowed lateness (compatible): windows emitted under the old one are never written again; records for them arriving after the switch are late', async () => {
    const name = 'mid-lateness-up';
    const aggregates = { n: count<V>(), total: sum((v: V) => v.ms) };
    await deliver(views(name, aggregates), 1, SWITCH);
    const next = views(name, aggregates, undefined, '10m');
    const gate = await gateNext(next);
    expect(gate).toEqual([`${name}: compatible with 1 open windows`]);
    await deliver(next, SWITCH + 1, N);
    // Under 10 minutes the windows [T0, T0 + 1 min) and [T0 + 1 min, T0 + 2 min) would still be open.
    await deliver(next, N + 1, N + stragglers.length, stragglers);
    await endOfInput(next);
    const reference = await query(`
      SELECT user, window_start(ts) AS ws, count(*) AS n, sum(ms)::DOUBLE AS total
      FROM (SELECT * FROM input UNION ALL SELECT * FROM stragglers)
      WHERE seq <= ${SWITCH} OR window_end(ts) > ${SWITCH_TS}
      GROUP BY ALL ORDER BY 1, 2`);
    expect(reference).toHaveLength(13);
    expect(await results('mid_lateness_up', 'user, epoch_ms(window_start), n, total')).toEqual(reference);
    const [late] = await query(`SELECT count(*) FROM stragglers WHERE window_end(ts) <= ${SWITCH_TS}`);
    const store = new DynamoDBStateStore({ tableName: TABLE, client: createClients().dynamoDb });
    expect(sumCounts((await store.readProgress(name)).shards).late).toBe(late![0]);
    expect(late![0]).toBe(8);
  });

  test('a shorter allowed lateness (compatible): windows open at the switch are emitted once, none is taken for emitted', async () => {
    const name = 'mid-lateness-down';
    const aggregates = { n: count<V>(), total: sum((v: V) => v.ms) };
    // Under a minute of lateness, [T0, T0 + 1 min) closes before the switch; [T0 + 1 min, T0 + 2 min) does not.
    await deliver(views(name, aggregates, undefined, '1m'), 1, SWITCH);
    const next = views(name, aggregates, undefined, '0s');
    await deliver(next, SWITCH + 1, N);
    await endOfInput(next);
    const reference = await query(`
      SELECT user, window_start(ts) AS ws, count(*) AS n, sum(ms)::DOUBLE AS total
      FROM input GROUP BY ALL ORDER BY 1, 2`);
    expect(reference).toHaveLength(13);
    expect(await results('mid_lateness_down', 'user, epoch_ms(window_start), n, total')).toEqual(reference);
    const store = new DynamoDBStateStore({ tableName: TABLE, client: createClients().dynamoDb });
    expect(sumCounts((await store.readProgress(name)).shards).late).toBe(0);
  });
});
