/**
 * A pipeline fed by another's window results, through the deployed stack on the local cloud, the way a user
 * runs it: `shardflow run` deploys `page-minutes` and `page-hours` in one stack and sends a clickstream
 * (duplicates and malformed records included) to the first, whose close passes publish each minute row to
 * `page-minutes` (`.sink({ table, toStream })`); the second rolls the minute rows up per page and hour. Its rows
 * equal a DuckDB SQL reference over the raw input file: each valid event once, each minute row once.
 *
 * A run without faults publishes each minute row once, so the second test injects the fault the downstream
 * `dedupeBy` is for, on the same deployed stack (the session `shardflow run` opens): a close pass of
 * page-minutes, against the stack's DynamoDB Local state, bucket and stream, dies after it wrote its objects and
 * published its rows and before it raised the emitted mark; the deployed tick, drained at the end of input,
 * publishes those rows again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { KinesisStreamPutter } from '../../functions/adapters/KinesisStreamPutter';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { ENV } from '../../functions/core/constants';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { StreamPublisher } from '../../functions/core/state/streamPublisher';
import type { PipelineMarks, PipelineProgress } from '../../functions/core/state/types';
import pageHours from '../../functions/pipelines/rollups/pageHours';
import pageMinutes from '../../functions/pipelines/rollups/pageMinutes';
import { generateClickstream, toJsonLines } from '../../localstack/generator/clickstream';
import { formatResult } from '../../localstack/query';
import { queryResults } from '../../localstack/query/queryResults';
import { resultTableSql } from '../../localstack/start/boundedRun';
import { synthContext } from '../../localstack/start/loadPipeline';
import { localDrainer } from '../../localstack/start/localDrain';
import { openLocalSession } from '../../localstack/start/localSession';
import { readRunInput } from '../../localstack/start/runInput';
import { sendRecords } from '../../localstack/start/sendRecords';
import { synthesizeCached } from '../../localstack/start/synthesize';
import { ROOT, runCli } from '../helpers/cli';
import { jsonEncoder } from '../helpers/jsonEncoder';
import { clickEventsSql } from '../helpers/clickEventsSql';

const MINUTES = 'functions/pipelines/rollups/pageMinutes.ts';
const HOURS = 'functions/pipelines/rollups/pageHours.ts';

/** The hour rollup over the raw lines in SQL: valid events (the stage-1 schema), each event id once. */
const REFERENCE_SQL = (file: string): string => `${clickEventsSql(file)}
SELECT page, strftime(date_trunc('hour', ts AT TIME ZONE 'UTC'), '%Y-%m-%d %H:%M:%S') AS window_start,
       count(*)::INTEGER AS events, count_if(action = 'purchase')::INTEGER AS purchases,
       round(sum(revenue), 6) AS revenue,
       count(DISTINCT date_trunc('minute', ts AT TIME ZONE 'UTC'))::INTEGER AS minutes
FROM events GROUP BY ALL ORDER BY window_start, page`;

/** The DuckDB reference over the raw input file, in the order `shardflow run` prints rows. */
async function reference(file: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    return (await connection.runAndReadAll(REFERENCE_SQL(file)))
      .getRowObjectsJson()
      .map((r) => ({ ...r, revenue: Number(r.revenue) }));
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

/** The hour rows as printed by `--format json`, shaped like the reference. */
function hourRows(json: string): Record<string, unknown>[] {
  return (JSON.parse(json) as Record<string, unknown>[]).map((r) => ({
    page: r.page,
    window_start: r.window_start,
    events: Number(r.events),
    purchases: Number(r.purchases),
    revenue: Math.round(Number(r.revenue) * 1e6) / 1e6,
    minutes: Number(r.minutes),
  }));
}

/**
 * Events from 11:57 to 12:03 (two hour windows per page), with producer duplicates and malformed records; late
 * records left out (whether one is late depends on how far the other shard got when it arrives).
 */
function clicksFile(dir: string, seed: number): string {
  const { records } = generateClickstream({
    events: 300,
    seed,
    baseTime: Date.UTC(2026, 0, 1, 11, 57),
    duplicates: 6,
    malformed: 5,
    late: 0,
  });
  const input = join(dir, `clicks-${seed}.jsonl`);
  writeFileSync(input, toJsonLines(records));
  return input;
}

/** A state store whose first raise of the emitted marks dies: the close pass wrote and published, then died. */
class DiesBeforeEmittedMark extends DynamoDBStateStore {
  public died = false;
  public override async raisePipeline(name: string, marks: PipelineMarks): Promise<PipelineProgress> {
    if (marks.emittedThrough !== undefined && !this.died) {
      this.died = true;
      throw new Error('injected: the close pass died before raising the emitted mark');
    }
    return super.raisePipeline(name, marks);
  }
}

describe('window results published to a stream, through the local stack', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-rollups-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a clickstream goes through page-minutes into page-hours, the hour rows equal the DuckDB reference over the raw input', async () => {
    const input = clicksFile(dir, 23);
    const env = { ...process.env, SHARDFLOW_STATE_DIR: dir, AWS_ENDPOINT_URL: '' };
    const run = await runCli(['run', MINUTES, HOURS, '--input', input, '--format', 'json'], env);
    expect({
      code: run.code,
      errors: run.stderr.split('\n').filter((l) => l.startsWith('shardflow:')),
    }).toEqual({ code: 0, errors: [] });
    const rows = hourRows(run.stdout);
    const expected = await reference(input);
    expect(expected.length).toBeGreaterThan(10);
    expect(new Set(expected.map((r) => r.window_start)).size).toBe(2);
    expect(rows).toEqual(expected);
    // Stage 2 read every published minute row, each counted once: records in − duplicates = minute rows.
    const minuteRows = expected.reduce((n, r) => n + Number(r.minutes), 0);
    const stage2 = run.stderr.split('\n').find((l) => l.startsWith('stage page-hours:'));
    const [, recordsIn, duplicates] =
      /: (\d+) records in → \d+ rows; 0 rejected, 0 late, (\d+) duplicates dropped$/.exec(stage2 ?? '') ?? [];
    expect(Number(recordsIn) - Number(duplicates)).toBe(minuteRows);
    // The stage that publishes its results says how many it could not (none here) and where they would be.
    expect(run.stderr.split('\n').filter((l) => l.includes('result rows over 1 MiB'))).toEqual([
      'page-minutes: 0 result rows over 1 MiB not published to page-minutes → rejected-results/page_minutes/',
    ]);
  }, 240_000);

  it('when a close pass of page-minutes dies after publishing its rows, they are published again and page-hours still equals the reference, counting the copies as duplicates', async () => {
    const input = clicksFile(dir, 29);
    const { templatePath } = await synthesizeCached(ROOT, synthContext(MINUTES, HOURS));
    const session = await openLocalSession({ templatePath });
    try {
      const { records } = await readRunInput(input, 'userId');
      await sendRecords(records, {
        kinesis: session.clients.kinesis,
        stream: session.streamOf(pageMinutes.spec),
      });
      await session.app.runtime.idle(60_000);
      // The end-of-input close pass of page-minutes, on the stack's state, bucket and stream, dies before its mark.
      const fn = session.app.deployment.functions.find(
        (f) => f.environment[ENV.PIPELINE] === 'page-minutes',
      )!;
      const putter = new StreamPublisher(new KinesisStreamPutter(), fn.environment[ENV.PUBLISH_STREAM]!);
      let published = 0;
      const store = new DiesBeforeEmittedMark({ tableName: session.stateTable });
      const dying = new BatchProcessor({
        pipeline: pageMinutes,
        store,
        objects: new S3ObjectStore({ bucket: session.bucket }),
        // Its objects do not matter (the drain writes the Parquet ones); what it published does.
        encoder: jsonEncoder,
        clock: { now: () => Date.now() },
        resultPublisher: {
          stream: 'page-minutes',
          publish: async (entries) => {
            await putter.publish(entries);
            published += entries.length;
          },
        },
      });
      await expect(dying.tick(Number.POSITIVE_INFINITY)).rejects.toThrow('injected');
      expect(store.died).toBe(true);
      expect(published).toBeGreaterThan(0);
      // The end of input, stage by stage, by the deployed tick functions (a drain request closes every open
      // window): page-minutes publishes the rows of the dead pass again, under the same ids.
      const drainer = localDrainer({ endpoint: session.cloud.endpoint, templatePath });
      try {
        await drainer.drain('page-minutes', undefined);
        await session.app.runtime.idle(60_000);
        await drainer.drain('page-hours', undefined);
      } finally {
        await drainer.close();
      }
      const [result] = await queryResults({ s3: session.clients.s3, bucket: session.bucket }, [
        resultTableSql(pageHours),
      ]);
      const expected = await reference(input);
      expect(hourRows(formatResult(result!, 'json'))).toEqual(expected);
      // Every copy the dying pass published arrived again and was dropped by the dedupe, not counted.
      const hours = await session.counts(pageHours);
      const minuteRows = expected.reduce((n, r) => n + Number(r.minutes), 0);
      expect(hours.duplicates).toBeGreaterThanOrEqual(published);
      expect(hours.records - hours.duplicates).toBe(minuteRows);
    } finally {
      await session.stop();
    }
  }, 240_000);
});
