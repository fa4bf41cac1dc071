/**
 * A restore of a session pipeline after its table is lost, through the bin on the embedded local cloud.
 * Session objects are named by the close pass that wrote them, so the sessions the lost table's passes
 * emitted after the savepoint are emitted again by the restored passes under other names: the restore
 * removes those objects first (`supersededSessionObjects`), and every session is in the results once, equal
 * to the DuckDB reference of the input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { pageSessions } from '../fixtures/pipelines/pageSessions';
import { runCli as cli } from '../helpers/cli';
import { useLocalCloud } from '../helpers/localCloud';
import { batches, createActiveStream, putAndReadBack } from '../helpers/streamRoundTrip';
import { createStateTable } from '../helpers/stateTable';
import { statefulCloudRun } from '../helpers/statefulCloud';

// hyparquet-writer is ESM only; jest's CommonJS runtime loads it through the fault suite's interop shim.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

const MODULE = 'test/fixtures/pipelines/pageSessions.ts';
const STREAM = pageSessions.spec.source.stream;
const GAP = 120_000;
const BATCH = 30;

const cloud = useLocalCloud();

interface Event {
  readonly eventId: string;
  readonly page: string;
  readonly ts: number;
  readonly line: string;
}

/**
 * Three pages, each visited in bursts of 8 events 10 s apart with a pause longer than the gap after each
 * burst (bursts staggered by page): sessions end all through the stream, so close passes emit before and
 * after the savepoint.
 */
function events(start: number): Event[] {
  const out: Event[] = [];
  for (let burst = 0; burst < 8; burst++)
    for (let page = 0; page < 3; page++)
      for (let i = 0; i < 8; i++) {
        const ts = start + burst * 4 * GAP + page * 40_000 + i * 10_000;
        const eventId = `00000000-0000-4000-8000-${String(burst * 100 + page * 10 + i).padStart(12, '0')}`;
        const line = JSON.stringify({
          eventId,
          userId: `u${i % 3}`,
          sessionId: `s${burst}`,
          page: `/p/${page}`,
          action: i === 7 ? 'purchase' : 'view',
          country: 'DE',
          device: 'mobile',
          durationMs: 100 + i,
          revenue: i === 7 ? 5 : 0,
          ts: new Date(ts).toISOString(),
        });
        out.push({ eventId, page: `/p/${page}`, ts, line });
      }
  return out.sort((a, b) => a.ts - b.ts);
}

/** Sessions of the input by gaps and islands, as the reference: page, start, end (last event + gap), events. */
async function referenceSessions(input: readonly Event[]): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const values = input.map((e) => `('${e.page}', ${e.ts}, '${e.eventId}')`).join(', ');
    const reader = await connection.runAndReadAll(
      `WITH events(page, ts, eventId) AS (VALUES ${values}),
        o AS (SELECT *, CASE WHEN ts - lag(ts) OVER (PARTITION BY page ORDER BY ts, eventId) <= ${GAP} THEN 0 ELSE 1 END AS brk FROM events),
        g AS (SELECT *, sum(brk) OVER (PARTITION BY page ORDER BY ts, eventId ROWS UNBOUNDED PRECEDING) AS sid FROM o)
       SELECT page, min(ts) AS window_start, max(ts) + ${GAP} AS window_end, count(*) AS events
       FROM g GROUP BY page, sid ORDER BY page, window_start`,
    );
    return reader.getRowObjectsJS().map((r) => ({
      page: r.page,
      window_start: Number(r.window_start),
      window_end: Number(r.window_end),
      events: Number(r.events),
    }));
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

describe('shardflow restore of a session pipeline', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-session-restore-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('when sessions were emitted after the savepoint, the restored pipeline emits each of them once, equal to the reference', async () => {
    const { kinesis, dynamoDb, s3 } = createClients();
    await createActiveStream(kinesis, STREAM, 2);
    const start = Date.now() - 3 * 3_600_000;
    const input = events(start);
    const byShard = await putAndReadBack(
      kinesis,
      STREAM,
      input.map((e) => ({ data: e.line, partitionKey: e.eventId })),
    );
    expect(byShard).toHaveLength(2);
    const all = batches(byShard, BATCH);

    // The old stack applies and closes sessions through the stream; the savepoint is taken halfway.
    const old = await statefulCloudRun(pageSessions, Date.now());
    const operator = old.instance();
    const half = Math.floor(all.length / 2);
    for (const batch of all.slice(0, half)) {
      await operator.apply(batch);
      await operator.tick();
    }
    const emittedBefore = (await old.resultKeys()).length;
    expect(emittedBefore).toBeGreaterThan(0);
    const env = { ...process.env, AWS_ENDPOINT_URL: cloud().endpoint, SHARDFLOW_STATE_DIR: dir };
    const to = `s3://${old.bucket}/savepoints/page-sessions/one/`;
    const saved = await cli(
      ['savepoint', '--local', '--pipeline', MODULE, '--state-table', old.table, '--to', to],
      env,
    );
    expect({ code: saved.code, stderr: saved.stderr }).toEqual({ code: 0, stderr: '' });
    for (const batch of all.slice(half)) {
      await operator.apply(batch);
      await operator.tick();
    }
    // Passes after the savepoint wrote objects of their own.
    expect((await old.resultKeys()).length).toBeGreaterThan(emittedBefore);

    // The table is lost; a new one gets the savepoint, and the stream is delivered again from before it.
    const table = `${old.table}-restored`;
    await createStateTable(dynamoDb, table);
    const restored = await cli(
      [
        'restore',
        '--local',
        '--from',
        to,
        '--pipeline',
        MODULE,
        '--state-table',
        table,
        '--results-bucket',
        old.bucket,
      ],
      env,
    );
    expect({ code: restored.code, stderr: restored.stderr }).toEqual({
      code: 0,
      stderr: expect.stringMatching(/restoring: (\d+) of \1 items\n$/) as unknown as string,
    });
    expect(restored.stdout).toMatch(
      /removed \d+ session objects the lost table's close passes wrote after the savepoint \(its restored passes write them again\)/,
    );
    const operatorAfter = new BatchProcessor({
      pipeline: pageSessions,
      store: new DynamoDBStateStore({ tableName: table, client: dynamoDb }),
      objects: new S3ObjectStore({ bucket: old.bucket, client: s3 }),
      encoder: new ParquetResultEncoder(),
      clock: { now: () => old.clock.now },
    });
    // The new mapping delivers from the stream's start in batches four times as large: its close passes
    // cut the sessions' ends elsewhere than the lost table's passes did.
    for (const batch of batches(byShard, 4 * BATCH)) await operatorAfter.apply(batch);
    await operatorAfter.tick(Number.POSITIVE_INFINITY);

    const got = (await old.rows('page, window_start, window_end, events')).map((r) => ({
      ...r,
      events: Number(r.events),
    }));
    const byWindow = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.page).localeCompare(String(b.page)) || Number(a.window_start) - Number(b.window_start);
    const reference = await referenceSessions(input);
    expect(reference).toHaveLength(24);
    expect(got.sort(byWindow)).toEqual(reference);
    await old.dispose();
  }, 90_000);
});
