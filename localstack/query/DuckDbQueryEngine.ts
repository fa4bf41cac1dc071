import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { BUCKET_PREFIX, DEFAULT_GLUE_DATABASE, PARTITION_COLUMNS } from '../../functions/core/constants';
import { COMPAT_MACROS } from './compatMacros';
import { requireLocalDependency } from '../emulators/optionalDependency';
import type { DeclaredTable } from './declaredTables';
import { SqlError } from './errors';

/** DuckDB, loaded on first query (an optional dependency: see `optionalDependency.ts`). */
const duckdb = (): typeof import('@duckdb/node-api') =>
  requireLocalDependency<typeof import('@duckdb/node-api')>('@duckdb/node-api');
import type { Cell, QueryResult } from './types';

/** Result table names become SQL identifiers: anything else in the bucket is ignored, never interpolated. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Hive partitioning options of every view: the partition columns (`dt`, `hour`) are VARCHAR, as the Glue
 * tables declare them, not the DATE and BIGINT-or-VARCHAR DuckDB would guess from the values (`hour` would
 * turn VARCHAR the first day a window starts before 10:00 UTC, `hour=09`), so SQL binds as on Athena.
 */
const HIVE = `hive_partitioning = true, hive_types = {${PARTITION_COLUMNS.map((c) => `'${c}': VARCHAR`).join(', ')}}`;

/**
 * Views over the JSON Lines side outputs of the results bucket, by view name: `rejected` holds rejected input
 * records, `rejected_results` the result rows `.sink({ toStream })` could not publish (over 1 MiB).
 */
export const SIDE_VIEWS: readonly (readonly [string, string])[] = [
  ['rejected', BUCKET_PREFIX.REJECTED],
  ['rejected_results', BUCKET_PREFIX.REJECTED_RESULTS],
  ['late', BUCKET_PREFIX.LATE],
  ['clean', BUCKET_PREFIX.CLEAN],
];

/** Options of {@link DuckDbQueryEngine.open}. */
export interface DuckDbQueryEngineOptions {
  /**
   * Local directory laid out like the results bucket (`results/<table>/dt=…/hour=…/*.parquet`, and
   * optionally `rejected/…/*.jsonl`, `rejected-results/…/*.jsonl` and `late/…/*.jsonl`).
   */
  readonly dataDir: string;
  /**
   * The Glue database of the result tables: each result view is also in a schema of that name, so SQL
   * written for Athena (`SELECT * FROM "shardflow"."page_activity"`) runs unchanged. @default 'shardflow'
   */
  readonly database?: string;
  /**
   * The result tables the stack declares: one without objects yet is an empty view of its columns (and
   * `dt`, `hour`), as Athena answers 0 rows before the first window closes.
   */
  readonly declared?: readonly DeclaredTable[];
}

/** DuckDB type of a declared column type (Glue or pipeline spec names); anything else is read as text. */
const DUCKDB_TYPES: Readonly<Record<string, string>> = {
  string: 'VARCHAR',
  json: 'VARCHAR',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

/** A quoted SQL identifier. */
const identifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A query with no rows and the declared table's columns, then the partition columns, as Athena has them. */
function emptySelect(table: DeclaredTable): string {
  const columns = [
    ...table.columns.map(
      (c) => `CAST(NULL AS ${DUCKDB_TYPES[c.type] ?? 'VARCHAR'}) AS ${identifier(c.name)}`,
    ),
    ...PARTITION_COLUMNS.map((c) => `CAST(NULL AS VARCHAR) AS ${identifier(c)}`),
  ];
  return `SELECT ${columns.join(', ')} LIMIT 0`;
}

/**
 * DuckDB over a local mirror of the results bucket: one view per result table, also in a schema named
 * after the Glue database as on Athena (hive partitioning gives the `dt` and `hour` columns, both
 * VARCHAR), views `rejected`, `rejected_results`, `late` and `clean` over the side outputs when they were
 * mirrored, plus Athena/Trino compatibility macros.
 *
 * @example
 * const engine = await DuckDbQueryEngine.open({ dataDir });
 * const { columns, rows } = await engine.query('SELECT page, sum(views) FROM page_activity GROUP BY 1');
 * engine.close();
 */
export class DuckDbQueryEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** Names of the views created, one per result table found or declared. */
    public readonly tables: readonly string[],
  ) {}

  public static async open(options: DuckDbQueryEngineOptions): Promise<DuckDbQueryEngine> {
    const instance = await duckdb().DuckDBInstance.create(':memory:', { threads: '2' });
    const connection = await instance.connect();
    try {
      await connection.run("SET TimeZone = 'UTC'");
      for (const macro of COMPAT_MACROS) await connection.run(macro);
      const found = await resultTables(options.dataDir);
      const empty = (options.declared ?? []).filter(
        (t) => TABLE_NAME.test(t.name) && !found.includes(t.name),
      );
      const tables = [...found, ...empty.map((t) => t.name)].sort();
      const database = identifier(options.database ?? DEFAULT_GLUE_DATABASE);
      if (tables.length > 0) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${database}`);
      const view = async (table: string, select: string): Promise<void> => {
        await connection.run(`CREATE OR REPLACE VIEW "${table}" AS ${select}`);
        await connection.run(`CREATE OR REPLACE VIEW ${database}."${table}" AS ${select}`);
      };
      for (const table of found) {
        const glob = join(options.dataDir, BUCKET_PREFIX.RESULTS, table, '**', '*.parquet').replace(
          /'/g,
          "''",
        );
        await view(table, `SELECT * FROM read_parquet('${glob}', ${HIVE}, union_by_name = true)`);
      }
      for (const table of empty) await view(table.name, emptySelect(table));
      // The side outputs (JSON Lines) as views (`SIDE_VIEWS`), for troubleshooting with SQL.
      const sideViews: string[] = [];
      for (const [view, prefix] of SIDE_VIEWS) {
        if (tables.includes(view) || !(await containsFiles(join(options.dataDir, prefix), '.jsonl')))
          continue;
        const glob = join(options.dataDir, prefix, '**', '*.jsonl').replace(/'/g, "''");
        await connection.run(
          `CREATE OR REPLACE VIEW "${view}" AS SELECT * FROM read_json_auto('${glob}', format = 'newline_delimited', union_by_name = true, ${HIVE})`,
        );
        sideViews.push(view);
      }
      return new DuckDbQueryEngine(instance, connection, [...tables, ...sideViews]);
    } catch (error) {
      connection.closeSync();
      instance.closeSync();
      throw error;
    }
  }

  /**
   * Runs one SQL statement (or several; the last one's result is returned).
   *
   * @throws SqlError with DuckDB's first message line when the SQL does not parse, bind or run.
   */
  public async query(sql: string): Promise<QueryResult> {
    try {
      const reader = await this.connection.runAndReadAll(sql);
      const names = reader.columnNames();
      const types = reader.columnTypes().map((t) => t.toString());
      const rows = reader.getRows().map((row) => row.map((value, i) => toCell(value, types[i] ?? '')));
      return { columns: names.map((name, i) => ({ name, type: types[i] ?? 'UNKNOWN' })), rows };
    } catch (error) {
      const line = firstLine(error);
      // A missing table names what there is to query instead (DuckDB suggests only near spellings).
      const missing = /Table with name (\S+) does not exist/.test(line);
      throw new SqlError(missing ? `${line} ${this.describeTables()}` : line, { cause: error });
    }
  }

  /** What there is to query, for error messages: the result tables found and the side-output views. */
  public describeTables(): string {
    const sides = SIDE_VIEWS.map(([view]) => view);
    const results = this.tables.filter((t) => !sides.includes(t));
    return [
      results.length === 0 ? 'No result table has rows yet.' : `Result tables: ${results.join(', ')}.`,
      `Side-output views (once they have records): ${sides.join(', ')}.`,
    ].join(' ');
  }

  /**
   * Parses SQL without running it (no data needed), so a typo is reported before any download.
   *
   * @throws SqlError with the parser's first message line.
   */
  public static async checkSyntax(sql: string): Promise<void> {
    if (sql.trim() === '') throw new SqlError('Empty SQL statement');
    const instance = await duckdb().DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const statements = await connection.extractStatements(sql);
      if (statements.count === 0) throw new SqlError('Empty SQL statement');
    } catch (error) {
      if (error instanceof SqlError) throw error;
      throw new SqlError(firstLine(error).replace(/^Failed to extract statements: /, ''), { cause: error });
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  public close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

async function resultTables(dataDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dataDir, BUCKET_PREFIX.RESULTS), { withFileTypes: true });
  } catch {
    return [];
  }
  const tables: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !TABLE_NAME.test(entry.name)) continue;
    if (await containsFiles(join(dataDir, BUCKET_PREFIX.RESULTS, entry.name), '.parquet'))
      tables.push(entry.name);
  }
  return tables.sort();
}

async function containsFiles(dir: string, suffix: string): Promise<boolean> {
  try {
    const files = await readdir(dir, { recursive: true });
    return files.some((f) => f.endsWith(suffix));
  } catch {
    return false;
  }
}

/** JSON-friendly value: exact integers stay numbers while safe, decimals become numbers, the rest text. */
function toCell(value: DuckDBValue, type: string): Cell {
  if (value === null) return null;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  const text = String(value);
  return type.startsWith('DECIMAL') ? Number(text) : text;
}

/** The first line of an engine error: enough to fix the SQL, never a stack trace. */
export function firstLine(error: unknown): string {
  // Not `instanceof Error`: errors from the native binding may come from another realm.
  const message =
    typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  return (message.split('\n').find((line) => line.trim() !== '') ?? 'query failed').trim();
}
