import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hivePartition, rejectedResultKey } from '../../../../functions/core/state/paths';
import { DuckDbQueryEngine } from '../../../../localstack/query/DuckDbQueryEngine';
import { SqlError } from '../../../../localstack/query/errors';
import { writeParquetFixture } from './parquetFixture';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const HOUR = 3_600_000;

/** A mirror with one window object of `page_activity` per given UTC hour of 2026-01-01, named as the closer names them. */
function mirrorWithHours(hours: readonly number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sf-query-partitions-'));
  for (const h of hours) {
    const start = Date.UTC(2026, 0, 1) + h * HOUR;
    const file = join(
      dir,
      'results',
      'page_activity',
      hivePartition(start),
      `${start}-${start + 60_000}.parquet`,
    );
    writeParquetFixture(file, [
      { name: 'page', type: 'STRING', data: ['/'] },
      { name: 'window_start', type: 'TIMESTAMP', data: [start] },
      { name: 'window_end', type: 'TIMESTAMP', data: [start + 60_000] },
      { name: 'events', type: 'INT64', data: [1] },
    ]);
  }
  return dir;
}

describe('DuckDbQueryEngine', () => {
  let dir: string;
  let engine: DuckDbQueryEngine;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sf-query-test-'));
    const part = (minute: number): string =>
      join(dir, 'results', 'page_activity', 'dt=2026-01-01', 'hour=12', `emission-${minute}.parquet`);
    writeParquetFixture(part(0), [
      { name: 'page', type: 'STRING', data: ['/', '/cart'] },
      { name: 'window_start', type: 'TIMESTAMP', data: [T0, T0] },
      { name: 'window_end', type: 'TIMESTAMP', data: [T0 + 60_000, T0 + 60_000] },
      { name: 'events', type: 'INT64', data: [10, 3] },
      { name: 'revenue', type: 'DOUBLE', data: [12.5, 0] },
    ]);
    writeParquetFixture(part(1), [
      { name: 'page', type: 'STRING', data: ['/'] },
      { name: 'window_start', type: 'TIMESTAMP', data: [T0 + 60_000] },
      { name: 'window_end', type: 'TIMESTAMP', data: [T0 + 120_000] },
      { name: 'events', type: 'INT64', data: [7] },
      { name: 'revenue', type: 'DOUBLE', data: [30.25] },
    ]);
    mkdirSync(join(dir, 'rejected', 'clickstream', 'dt=2026-01-01', 'hour=12'), { recursive: true });
    writeFileSync(
      join(dir, 'rejected', 'clickstream', 'dt=2026-01-01', 'hour=12', 'shard-1-2.jsonl'),
      '{"reason":"INVALID_JSON","detail":"x","shardId":"s0","sequenceNumber":"1"}\n{"reason":"SCHEMA_VIOLATION","detail":"y","shardId":"s0","sequenceNumber":"2"}\n',
    );
    // A result row too big for its stream (`.sink({ toStream })`): not a rejected input record.
    const letter = join(dir, rejectedResultKey('page_activity', T0, 'page_activity/0//big'));
    mkdirSync(dirname(letter), { recursive: true });
    writeFileSync(letter, '{"reason":"OVERSIZE_RECORD","detail":"z","table":"page_activity","key":"/big"}\n');
    mkdirSync(join(dir, 'clean', 'clickstream', 'dt=2026-01-01', 'hour=12'), { recursive: true });
    writeFileSync(
      join(dir, 'clean', 'clickstream', 'dt=2026-01-01', 'hour=12', 'shard-1-2.jsonl'),
      '{"page":"/","userId":"u1"}\n{"page":"/cart","userId":"u2"}\n{"page":"/","userId":"u3"}\n',
    );
    // Not a result table name DuckDB may see: ignored, never interpolated into SQL.
    writeParquetFixture(join(dir, 'results', 'bad name"; drop', 'x.parquet'), [
      { name: 'a', type: 'INT64', data: [1] },
    ]);
    engine = await DuckDbQueryEngine.open({ dataDir: dir });
  });

  afterAll(() => {
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when results exist, it creates one view per valid table name with hive partition columns', async () => {
    expect(engine.tables).toEqual(['page_activity', 'rejected', 'rejected_results', 'clean']);
    const { columns, rows } = await engine.query(
      'SELECT page, sum(events) AS events, sum(revenue) AS revenue, min(dt) AS dt, min(hour) AS hour FROM page_activity GROUP BY page ORDER BY page',
    );
    expect(columns.map((c) => c.name)).toEqual(['page', 'events', 'revenue', 'dt', 'hour']);
    expect(rows).toEqual([
      ['/', 17, 42.75, '2026-01-01', '12'],
      ['/cart', 3, 0, '2026-01-01', '12'],
    ]);
  });

  it('when SQL names a result table with the Glue database, as on Athena, it reads the same view', async () => {
    const sql = (table: string): string =>
      `SELECT page, sum(events) AS events FROM ${table} GROUP BY 1 ORDER BY 1`;
    const plain = await engine.query(sql('page_activity'));
    expect(plain.rows).toEqual([
      ['/', 17],
      ['/cart', 3],
    ]);
    expect(await engine.query(sql('"shardflow"."page_activity"'))).toEqual(plain);
    expect(await engine.query(sql('shardflow.page_activity'))).toEqual(plain);
    const named = await DuckDbQueryEngine.open({ dataDir: dir, database: 'web_analytics' });
    try {
      expect(await named.query(sql('"web_analytics"."page_activity"'))).toEqual(plain);
    } finally {
      named.close();
    }
  });

  it('when rejected records were mirrored, they can be queried through the rejected view', async () => {
    const { rows } = await engine.query(
      'SELECT reason, count(*) AS n FROM rejected GROUP BY reason ORDER BY reason',
    );
    expect(rows).toEqual([
      ['INVALID_JSON', 1],
      ['SCHEMA_VIOLATION', 1],
    ]);
  });

  it('when result rows were dead-lettered for their size, they are in the rejected_results view, not in rejected', async () => {
    const { rows } = await engine.query('SELECT reason, "table", key FROM rejected_results');
    expect(rows).toEqual([['OVERSIZE_RECORD', 'page_activity', '/big']]);
  });

  it('when window columns were written as TIMESTAMP_MILLIS, it reads them as UTC timestamps', async () => {
    const { columns, rows } = await engine.query(
      'SELECT window_start, window_end FROM page_activity ORDER BY window_start LIMIT 1',
    );
    expect(columns.map((c) => c.type)).toEqual(['TIMESTAMP', 'TIMESTAMP']);
    expect(rows).toEqual([['2026-01-01 12:00:00', '2026-01-01 12:01:00']]);
  });

  it('when Athena aggregate functions are used, the approx_percentile and approx_distinct macros answer', async () => {
    const { rows } = await engine.query(
      'SELECT approx_distinct(page) AS pages, approx_percentile(events, 0.5) AS median FROM page_activity',
    );
    expect(rows).toEqual([[2, 7]]);
  });

  it('when Athena time functions are used, from_unixtime, to_unixtime, and date_format answer', async () => {
    const { rows } = await engine.query(`SELECT
      from_unixtime(${T0 / 1000}) AS a,
      to_unixtime(TIMESTAMP '2026-01-01 12:00:00.5') AS b,
      date_format(TIMESTAMP '2026-01-05 07:03:09', '%Y-%m-%d %H:%i:%s') AS c,
      date_format(TIMESTAMP '2026-01-05 17:03:09', '%M %W %c/%e %h %k %l %p %T %% %i') AS d,
      date_format(TIMESTAMPTZ '2026-01-05 07:03:09+00', '%Y/%m/%d') AS e,
      date_format(window_start, '%H:%i') AS f
      FROM page_activity ORDER BY window_start LIMIT 1`);
    expect(rows).toEqual([
      [
        '2026-01-01 12:00:00',
        T0 / 1000 + 0.5,
        '2026-01-05 07:03:09',
        'January Monday 1/5 05 17 5 PM 17:03:09 % 03',
        '2026/01/05',
        '12:00',
      ],
    ]);
  });

  it('when the SQL is malformed, it throws a SqlError with one line naming the problem', async () => {
    const failure = engine.query('SELEC page FROM page_activity');
    await expect(failure).rejects.toBeInstanceOf(SqlError);
    await expect(failure).rejects.toThrow(/^Parser Error: syntax error at or near "SELEC"$/);
  });

  it('when only the syntax is checked, a typo fails without any data and valid SQL passes', async () => {
    await expect(DuckDbQueryEngine.checkSyntax('SELEC 1')).rejects.toMatchObject({
      name: 'SqlError',
      message: 'Parser Error: syntax error at or near "SELEC"',
    });
    await expect(DuckDbQueryEngine.checkSyntax('   ')).rejects.toMatchObject({
      name: 'SqlError',
      message: 'Empty SQL statement',
    });
    await expect(DuckDbQueryEngine.checkSyntax('SELECT * FROM not_yet_known')).resolves.toBeUndefined();
  });

  it('when a table does not exist, it throws a one-line SqlError', async () => {
    const error = await engine.query('SELECT * FROM nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqlError);
    expect((error as Error).message).toBe(
      'Catalog Error: Table with name nope does not exist! Result tables: page_activity. Side-output views (once they have records): rejected, rejected_results, late, clean.',
    );
  });

  it('when cleaned records were mirrored, they can be queried through the clean view', async () => {
    const { rows } = await engine.query('SELECT page, count(*) AS n FROM clean GROUP BY page ORDER BY page');
    expect(rows).toEqual([
      ['/', 2],
      ['/cart', 1],
    ]);
  });

  it('when a declared table has no objects yet, it answers with no rows and its typed columns, also under the database', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sf-query-declared-'));
    const e = await DuckDbQueryEngine.open({
      dataDir: empty,
      declared: [
        {
          name: 'page_activity_minutely',
          columns: [
            { name: 'page', type: 'string' },
            { name: 'window_start', type: 'timestamp' },
            { name: 'events', type: 'bigint' },
            { name: 'top_referrers', type: 'json' },
          ],
        },
      ],
    });
    try {
      expect(e.tables).toEqual(['page_activity_minutely']);
      for (const table of ['page_activity_minutely', '"shardflow"."page_activity_minutely"']) {
        const result = await e.query(`SELECT * FROM ${table}`);
        expect(result).toEqual({
          columns: [
            { name: 'page', type: 'VARCHAR' },
            { name: 'window_start', type: 'TIMESTAMP' },
            { name: 'events', type: 'BIGINT' },
            { name: 'top_referrers', type: 'VARCHAR' },
            { name: 'dt', type: 'VARCHAR' },
            { name: 'hour', type: 'VARCHAR' },
          ],
          rows: [],
        });
      }
    } finally {
      e.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('when a declared table has objects, its view reads them', async () => {
    const e = await DuckDbQueryEngine.open({
      dataDir: dir,
      declared: [{ name: 'page_activity', columns: [{ name: 'page', type: 'string' }] }],
    });
    try {
      expect((await e.query('SELECT sum(events) AS events FROM page_activity')).rows).toEqual([[20]]);
    } finally {
      e.close();
    }
  });

  it('when there are no results yet, it opens with no views', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sf-query-empty-'));
    const e = await DuckDbQueryEngine.open({ dataDir: empty });
    try {
      expect(e.tables).toEqual([]);
      expect((await e.query('SELECT 1 AS one')).rows).toEqual([[1]]);
    } finally {
      e.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  describe('partition columns', () => {
    const opened: { dir: string; engine: DuckDbQueryEngine }[] = [];
    afterAll(() => {
      for (const m of opened) {
        m.engine.close();
        rmSync(m.dir, { recursive: true, force: true });
      }
    });
    const open = async (hours: readonly number[]): Promise<DuckDbQueryEngine> => {
      const dir = mirrorWithHours(hours);
      const e = await DuckDbQueryEngine.open({ dataDir: dir });
      opened.push({ dir, engine: e });
      return e;
    };
    const types = async (e: DuckDbQueryEngine): Promise<string[]> =>
      (await e.query('SELECT dt, hour FROM page_activity LIMIT 1')).columns.map((c) => c.type);

    it('when windows start before 10:00 UTC or only after, dt and hour are VARCHAR, as the Glue table declares them', async () => {
      expect({
        afternoon: await types(await open([12, 13])),
        morning: await types(await open([9, 10])),
      }).toEqual({
        afternoon: ['VARCHAR', 'VARCHAR'],
        morning: ['VARCHAR', 'VARCHAR'],
      });
    });

    it('when the SQL compares hour with a number, the outcome does not depend on which hours hold windows', async () => {
      const sql = 'SELECT sum(events) AS events FROM page_activity WHERE hour BETWEEN 9 AND 12';
      const outcome = (e: DuckDbQueryEngine): Promise<string> =>
        e.query(sql).then(
          (r) => `answers ${JSON.stringify(r.rows)}`,
          (error: Error) => `fails: ${error.message}`,
        );
      expect(await outcome(await open([9, 12, 13]))).toBe(await outcome(await open([12, 13])));
    });

    it('when the SQL filters the partitions as strings, as on Athena, it answers', async () => {
      const e = await open([9, 12, 13]);
      const { rows } = await e.query(
        "SELECT sum(events) AS events, min(hour) AS first FROM page_activity WHERE dt LIKE '2026-01%' AND hour BETWEEN '09' AND '12'",
      );
      expect(rows).toEqual([[2, '09']]);
    });
  });
});
