import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ParquetResultEncoder } from '../../../functions/adapters/ParquetResultEncoder';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../../faults/esmInterop').hyparquetWriterCjs());
import type { ColumnSpec } from '../../../functions/core/types';

const columns: ColumnSpec[] = [
  { name: 'user', type: 'string' },
  { name: 'window_start', type: 'timestamp' },
  { name: 'views', type: 'bigint' },
  { name: 'avg_ms', type: 'double' },
  { name: 'bot', type: 'boolean' },
  { name: 'top', type: 'json' },
];

describe('ParquetResultEncoder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardflow-parquet-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('when rows are encoded, DuckDB reads them back with TIMESTAMP (millis), BIGINT, DOUBLE, BOOLEAN and VARCHAR types, SNAPPY compressed', async () => {
    const start = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const bytes = new ParquetResultEncoder().encode(columns, [
      {
        user: 'alice',
        window_start: start,
        views: 9_007_199_254_740_993n,
        avg_ms: 0.1 + 0.2,
        bot: false,
        top: '[{"item":"a","count":3}]',
      },
      { user: 'bob ü', window_start: start + 60_000, views: 2, avg_ms: null, bot: true, top: null },
    ]);
    const file = join(dir, 'rows.parquet');
    await writeFile(file, bytes);
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      await connection.run("SET TimeZone = 'UTC'");
      const types = (
        await connection.runAndReadAll(
          `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`,
        )
      ).getRows();
      expect(types).toEqual([
        ['user', 'VARCHAR'],
        ['window_start', 'TIMESTAMP'],
        ['views', 'BIGINT'],
        ['avg_ms', 'DOUBLE'],
        ['bot', 'BOOLEAN'],
        ['top', 'VARCHAR'],
      ]);
      const schema = (
        await connection.runAndReadAll(
          `SELECT name, type, converted_type FROM parquet_schema('${file}') WHERE name = 'window_start'`,
        )
      ).getRows();
      expect(schema).toEqual([['window_start', 'INT64', 'TIMESTAMP_MILLIS']]);
      const codecs = (
        await connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)
      ).getRows();
      expect(codecs).toEqual([['SNAPPY']]);
      const rows = (
        await connection.runAndReadAll(
          `SELECT user, epoch_ms(window_start), views, avg_ms, bot, top FROM read_parquet('${file}') ORDER BY user`,
        )
      ).getRows();
      expect(rows).toEqual([
        ['alice', BigInt(start), 9_007_199_254_740_993n, 0.1 + 0.2, false, '[{"item":"a","count":3}]'],
        ['bob ü', BigInt(start + 60_000), 2n, null, true, null],
      ]);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });

  /** The rows `sql` gives over the encoded `rows`, with `%s` standing for the object, and over a table of them. */
  async function queryBoth(
    name: string,
    cols: ColumnSpec[],
    rows: Parameters<ParquetResultEncoder['encode']>[1],
    sqls: readonly string[],
  ): Promise<{ object: unknown[][][]; table: unknown[][][] }> {
    const file = join(dir, `${name}.parquet`);
    await writeFile(file, new ParquetResultEncoder().encode(cols, rows));
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      await connection.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${file}')`);
      const read = async (from: string) =>
        Promise.all(
          sqls.map(async (sql) => (await connection.runAndReadAll(sql.replace('%s', from))).getRows()),
        );
      return { object: await read(`read_parquet('${file}')`), table: await read('t') };
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  }

  test('when a double column holds NaN (a sum that overflowed both ways), filters over the object find it as over a table', async () => {
    const nan = 1e308 + 1e308 + (-1e308 - 1e308);
    // 1,500 rows: two row groups, the NaN in the second.
    const rows = Array.from({ length: 1500 }, (_, i) => ({
      k: `k${String(i).padStart(4, '0')}`,
      revenue: i === 1499 ? nan : i % 1000,
    }));
    const { object, table } = await queryBoth(
      'nan',
      [
        { name: 'k', type: 'string' },
        { name: 'revenue', type: 'double' },
      ],
      rows,
      [
        `SELECT k FROM %s WHERE revenue = 'NaN'::DOUBLE`,
        'SELECT k FROM %s WHERE revenue > 5000 ORDER BY k',
        'SELECT k FROM %s ORDER BY revenue DESC LIMIT 1',
      ],
    );
    expect(table).toEqual([[['k1499']], [['k1499']], [['k1499']]]);
    expect(object).toEqual(table);
  });

  test('when a double column holds -0 and 0 (an avg that underflowed), every row reads back as 0', async () => {
    expect(Object.is(-5e-324 / 2, -0)).toBe(true);
    const rows = [
      { k: 'a', v: -0 },
      ...Array.from({ length: 1999 }, (_, i) => ({ k: `k${String(i).padStart(5, '0')}`, v: 0 })),
    ];
    const { object } = await queryBoth(
      'zero',
      [
        { name: 'k', type: 'string' },
        { name: 'v', type: 'double' },
      ],
      rows,
      ["SELECT count(*) FILTER (WHERE v::VARCHAR = '0.0'), count(*) FROM %s"],
    );
    expect(object).toEqual([[[2000n, 2000n]]]);
  });

  test('when a value does not fit its column type, encoding fails naming the column', () => {
    expect(() =>
      new ParquetResultEncoder().encode(columns, [
        { user: 'a', window_start: 'yesterday', views: 1, avg_ms: 1, bot: true, top: null },
      ]),
    ).toThrow('Result column window_start of type timestamp cannot hold string yesterday');
  });
});
