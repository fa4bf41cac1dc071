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

  test('when a value does not fit its column type, encoding fails naming the column', () => {
    expect(() =>
      new ParquetResultEncoder().encode(columns, [
        { user: 'a', window_start: 'yesterday', views: 1, avg_ms: 1, bot: true, top: null },
      ]),
    ).toThrow('Result column window_start of type timestamp cannot hold string yesterday');
  });
});
