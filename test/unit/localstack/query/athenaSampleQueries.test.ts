/**
 * The SQL the stack saves in its Athena workgroup (`AthenaWorkgroup.addSampleQueries`) names each table with
 * its Glue database (`"shardflow"."page_activity_minutely"`) and filters the string partition `dt`: it must
 * run unchanged on the local engine over the same objects (DESIGN.md §5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { hivePartition } from '../../../../functions/core/state/paths';
import { AthenaWorkgroup } from '../../../../lib/constructs/AthenaWorkgroup';
import { GlueCatalog } from '../../../../lib/constructs/GlueCatalog';
import { ResultsBucket } from '../../../../lib/constructs/ResultsBucket';
import { ResultTable } from '../../../../lib/constructs/ResultTable';
import { DuckDbQueryEngine } from '../../../../localstack/query/DuckDbQueryEngine';
import { writeParquetFixture } from './parquetFixture';

describe("the stack's Athena sample queries on the local engine", () => {
  let dir: string;
  let engine: DuckDbQueryEngine;
  let samples: { name: string; sql: string }[];

  beforeAll(async () => {
    const stack = new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    const catalog = new GlueCatalog(stack, 'Catalog');
    const results = new ResultsBucket(stack, 'Results', { serverAccessLogs: false });
    const table = new ResultTable(stack, 'Table', {
      catalog,
      bucket: results.bucket,
      tableName: 'page_activity_minutely',
      columns: [
        { name: 'page', type: 'string' },
        { name: 'window_start', type: 'timestamp' },
        { name: 'window_end', type: 'timestamp' },
        { name: 'events', type: 'bigint' },
      ],
    });
    const athena = new AthenaWorkgroup(stack, 'Athena', {
      bucket: results.bucket,
      databaseName: catalog.databaseName,
    });
    samples = athena.addSampleQueries(table).map((q) => ({ name: q.name ?? '', sql: q.queryString }));

    dir = mkdtempSync(join(tmpdir(), 'sf-query-samples-'));
    // One window of the current minute (the samples read today's and yesterday's partitions).
    const start = Math.floor(Date.now() / 60_000) * 60_000;
    writeParquetFixture(
      join(
        dir,
        'results',
        'page_activity_minutely',
        hivePartition(start),
        `${start}-${start + 60_000}.parquet`,
      ),
      [
        { name: 'page', type: 'STRING', data: ['/'] },
        { name: 'window_start', type: 'TIMESTAMP', data: [start] },
        { name: 'window_end', type: 'TIMESTAMP', data: [start + 60_000] },
        { name: 'events', type: 'INT64', data: [3] },
      ],
    );
    engine = await DuckDbQueryEngine.open({ dataDir: dir });
  });
  afterAll(() => {
    engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a sample query names the table with the Glue database, it answers locally with the window written', async () => {
    expect(
      samples.map((s) => s.sql).every((sql) => sql.includes('"shardflow"."page_activity_minutely"')),
    ).toBe(true);
    const outcomes: Record<string, string> = {};
    for (const { name, sql } of samples) {
      outcomes[name] = await engine.query(sql).then(
        (r) => `${r.rows.length} rows`,
        (error: Error) => error.message,
      );
    }
    expect(outcomes).toEqual({
      'page_activity_minutely: latest windows': '1 rows',
      'page_activity_minutely: windows per hour today': '1 rows',
    });
  });
});
