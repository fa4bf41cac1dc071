/**
 * Encodes result rows as Parquet with hyparquet-writer: standard logical types (INT64 TIMESTAMP_MILLIS,
 * never INT96 or NANOS), SNAPPY compression, columns exactly as the pipeline declares them, so Athena
 * (through the Glue table) and DuckDB read the same files.
 */
import type { ColumnSpec, ColumnType, ResultRow } from '../core/types';
import type { ResultEncoder } from '../core/state/types';
import { StateError } from '../core/state/errors';

type Cell = ResultRow[string];
type HyparquetWriter = typeof import('hyparquet-writer');

let writer: HyparquetWriter | undefined;

/**
 * hyparquet-writer is ESM-only: loaded on first use, so importing this module (or a handler) never fails
 * in a CommonJS test runtime that does not encode; Node 20 Lambda and esbuild bundles load it fine.
 */
function hyparquetWriter(): HyparquetWriter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (writer ??= require('hyparquet-writer') as HyparquetWriter);
}
type ParquetBasicType = 'STRING' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

/** Parquet type of each column type (Glue: string, bigint, double, boolean, timestamp; json is a string). */
const PARQUET_TYPE: Record<ColumnType, ParquetBasicType> = {
  string: 'STRING',
  json: 'STRING',
  bigint: 'INT64',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

function convert(column: ColumnSpec, value: Cell | undefined): Cell | Date {
  if (value === null || value === undefined) return null;
  const bad = (): never => {
    throw new StateError(
      `Result column ${column.name} of type ${column.type} cannot hold ${typeof value} ${String(value).slice(0, 40)}`,
    );
  };
  switch (column.type) {
    case 'string':
      return typeof value === 'string' ? value : String(value);
    case 'json':
      return typeof value === 'string'
        ? value
        : JSON.stringify(typeof value === 'bigint' ? value.toString() : value);
    case 'bigint':
      if (typeof value === 'bigint') return value;
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : bad();
    case 'double':
      // -0 is written as 0: the writer's dictionary (a Map) takes -0 and 0 for one value, so a column with
      // both would read back with the first one's sign in every row of the other.
      return typeof value === 'number'
        ? value === 0
          ? 0
          : value
        : typeof value === 'bigint'
          ? Number(value)
          : bad();
    case 'boolean':
      return typeof value === 'boolean' ? value : bad();
    case 'timestamp':
      return typeof value === 'number' && Number.isSafeInteger(value)
        ? new Date(value)
        : typeof value === 'bigint'
          ? new Date(Number(value))
          : bad();
  }
}

export class ParquetResultEncoder implements ResultEncoder {
  public readonly contentType = 'application/vnd.apache.parquet';
  public readonly extension = 'parquet';

  public encode(columns: readonly ColumnSpec[], rows: readonly ResultRow[]): Uint8Array {
    const columnData = columns.map((column) => {
      const data = rows.map((row) => convert(column, row[column.name]));
      return {
        name: column.name,
        type: PARQUET_TYPE[column.type],
        nullable: true,
        data,
        // Min/max statistics leave NaN out, and readers skip data by them (DuckDB answered no row to
        // `WHERE revenue = 'NaN'` or `> 5000` over a column holding a NaN sum): none for such a column.
        ...(column.type === 'double' && data.some((v) => typeof v === 'number' && Number.isNaN(v))
          ? { statistics: false }
          : {}),
      };
    });
    return new Uint8Array(
      hyparquetWriter().parquetWriteBuffer({ columnData, codec: 'SNAPPY', createdBy: 'shardflow' }),
    );
  }
}
