/**
 * `shardflow savepoint` and `shardflow restore` through the bin, on the embedded local cloud: a pipeline
 * applies a stream into one state table; a savepoint is taken while it keeps applying; the table is lost;
 * the savepoint is restored into a new one and the stream is delivered again from a point before the
 * savepoint (a new mapping) to its end. Every record counts once: the result rows equal the DuckDB reference of the input.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { pageActivity } from '../../functions/pipelines';
import { useLocalCloud } from '../helpers/localCloud';
import { batches, createActiveStream, putAndReadBack } from '../helpers/streamRoundTrip';
import { createBucket } from '../faults/localResources';
import { createStateTable } from '../helpers/stateTable';
import { statefulCloudRun } from '../helpers/statefulCloud';

// hyparquet-writer is ESM only; jest's CommonJS runtime loads it through the fault suite's interop shim.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'localstack', 'cli', 'bin.js');
const STREAM = pageActivity.spec.source.stream;
const EVENTS = 360;
const BATCH = 40;

const cloud = useLocalCloud();

async function cli(args: readonly string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, [BIN, ...args], { env, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: error.code ?? -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

/** Clickstream events a second apart over 6 minutes, 5 pages; every 30th sent twice (a producer retry). */
function events(start: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const event = JSON.stringify({
      eventId: randomUUID(),
      userId: `u${i % 7}`,
      sessionId: `s${i % 7}`,
      page: `/p/${i % 5}`,
      action: i % 6 === 0 ? 'purchase' : 'view',
      country: 'DE',
      device: 'mobile',
      durationMs: 100 + (i % 13),
      revenue: i % 6 === 0 ? 5 + (i % 4) : 0,
      ts: new Date(start + i * 1_000).toISOString(),
    });
    out.push(event);
    if (i % 30 === 0) out.push(event);
    if (i % 90 === 45) out.push('{not json');
  }
  return out;
}

describe('shardflow savepoint / restore', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-savepoint-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when a savepoint taken mid-stream is restored into a new table and the stream is delivered again from a point before it, every record counts once and the rows equal the DuckDB reference', async () => {
    const { kinesis, dynamoDb, s3 } = createClients();
    await createActiveStream(kinesis, STREAM, 2);
    const lines = events(Date.now() - 20 * 60_000);
    writeFileSync(join(dir, 'input.jsonl'), `${lines.filter((l) => l.startsWith('{"')).join('\n')}\n`);
    const byShard = await putAndReadBack(
      kinesis,
      STREAM,
      // A producer retry keeps its partition key (the same shard: dedupe is per shard).
      lines.map((line) => ({ data: line, partitionKey: line.slice(12, 48) || 'malformed' })),
    );
    expect(byShard).toHaveLength(2);
    const shardIds = byShard.map((records) => records[0]!.shardId);
    const all = batches(byShard, BATCH);

    // The old stack: applies part of the stream, and goes on applying while the savepoint is taken.
    const old = await statefulCloudRun(pageActivity, Date.now());
    const operator = old.instance();
    const before = Math.floor(all.length / 2);
    for (const batch of all.slice(0, before)) await operator.apply(batch);
    const env = { ...process.env, AWS_ENDPOINT_URL: cloud().endpoint, SHARDFLOW_STATE_DIR: dir };
    const to = `s3://${old.bucket}/savepoints/page-activity/one/`;
    const [saved] = await Promise.all([
      cli(
        ['savepoint', '--local', '--pipeline', 'page-activity', '--state-table', old.table, '--to', to],
        env,
      ),
      (async () => {
        for (const batch of all.slice(before, before + 4)) await operator.apply(batch);
      })(),
    ]);
    expect({ code: saved.code, stderr: saved.stderr }).toEqual({ code: 0, stderr: '' });
    expect(saved.stdout).toMatch(
      new RegExp(
        `^savepoint of page-activity written to ${to}: \\d+ items, \\d+ open windows, fingerprint ${pageActivity.stateFingerprint}; shardId-\\d+ at \\d+, shardId-\\d+ at \\d+\\n$`,
      ),
    );

    // The table is lost; a new stack, its mapping disabled until the restore, gets the savepoint.
    const table = `${old.table}-restored`;
    await createStateTable(dynamoDb, table);
    const operatorAfter = new BatchProcessor({
      pipeline: pageActivity,
      store: new DynamoDBStateStore({ tableName: table, client: dynamoDb }),
      objects: new S3ObjectStore({ bucket: old.bucket, client: s3 }),
      encoder: new ParquetResultEncoder(),
      clock: { now: () => old.clock.now },
    });
    // Its tick registers the stream's shards while the mapping waits for the restore.
    await operatorAfter.tick(undefined, { shardIds });
    const restored = await cli(['restore', '--local', '--from', to, '--state-table', table], env);
    expect({ code: restored.code, out: restored.stdout }).toEqual({
      code: 0,
      out: expect.stringMatching(
        new RegExp(
          `^restored page-activity from ${to} into ${table}: \\d+ items written; shards resume shardId-\\d+ after \\d+, shardId-\\d+ after \\d+; start the mapping at the trim horizon or at a timestamp up to \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n$`,
        ),
      ) as unknown as string,
    });
    expect(restored.stderr).toMatch(/restoring: (\d+) of \1 items\n$/);
    // The new mapping starts at a point before the savepoint's positions (AT_TIMESTAMP, or the trim horizon
    // once the oldest records have left the stream): what came before it is only in the restored state, what
    // comes again between it and the savepoint is fenced by the restored shard positions.
    for (const batch of all.slice(Math.floor(before / 2))) await operatorAfter.apply(batch);
    await operatorAfter.tick(Number.POSITIVE_INFINITY);
    // Once the table holds state of its own, a restore into it is refused.
    const again = await cli(['restore', '--local', '--from', to, '--state-table', table], env);
    expect({ code: again.code, stderr: again.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(
        new RegExp(
          `^shardflow: Table ${table} already holds state of pipeline page-activity \\(\\d+ progress items? not from this savepoint\\)`,
        ),
      ) as unknown as string,
    });

    // Exactly once: each Kinesis record counted in one commit, whatever was redelivered.
    const { shards } = await new DynamoDBStateStore({ tableName: table, client: dynamoDb }).readProgress(
      pageActivity.spec.name,
    );
    expect(shards.reduce((n, s) => n + (s.counts?.records ?? 0), 0)).toBe(lines.length);

    const got = await old.rows('page, window_start, events, purchases, revenue, max_duration_ms, users');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const reference = (
        await connection.runAndReadAll(
          `SELECT page, epoch_ms(time_bucket(INTERVAL 1 minute, ts::TIMESTAMP)) AS window_start, count(*) AS events,
             count(*) FILTER (action = 'purchase') AS purchases, sum(revenue) AS revenue, max(durationMs) AS max_duration_ms,
             count(DISTINCT userId) AS users
           FROM (SELECT DISTINCT * FROM read_json('${dir}/input.jsonl', format = 'newline_delimited'))
           GROUP BY ALL ORDER BY page, window_start`,
        )
      ).getRowObjectsJS();
      expect(reference.length).toBeGreaterThan(20);
      const norm = (rows: Record<string, unknown>[]) =>
        rows.map((r) =>
          Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
        );
      const byWindow = (a: Record<string, unknown>, b: Record<string, unknown>) =>
        String(a.page).localeCompare(String(b.page)) || Number(a.window_start) - Number(b.window_start);
      expect(norm(got).sort(byWindow)).toEqual(norm(reference));
    } finally {
      connection.closeSync();
      db.closeSync();
    }
    await old.dispose();
  }, 60_000);

  test('when a flag is missing or wrong, or nothing is at --from, it says so in one line', async () => {
    const env = { ...process.env, AWS_ENDPOINT_URL: cloud().endpoint, SHARDFLOW_STATE_DIR: dir };
    await createBucket(createClients().s3, `nothing-saved-${process.pid}`);
    const [unrecorded, nothing, notS3] = await Promise.all([
      cli(['savepoint'], env),
      cli(
        ['restore', '--local', '--from', `s3://nothing-saved-${process.pid}/sp`, '--state-table', 't'],
        env,
      ),
      cli(['restore', '--from', 'savepoints/x'], env),
    ]);
    expect(unrecorded).toMatchObject({
      code: 1,
      stderr:
        'shardflow: No state table recorded: deploy with "npx shardflow deploy" first, pass --state-table, or add --local for the local cloud\n',
    });
    expect(nothing).toMatchObject({
      code: 1,
      stderr: `shardflow: No savepoint at s3://nothing-saved-${process.pid}/sp/ (no manifest.json): give the prefix "shardflow savepoint" printed\n`,
    });
    expect(notS3).toMatchObject({
      code: 1,
      stderr: 'shardflow: --from must be an S3 URL, s3://bucket/prefix (given savepoints/x)\n',
    });
  }, 30_000);
});
