/**
 * The newest result window of a table, as the console shows it: the rows of its one Parquet object
 * (`results/<table>/dt=…/hour=…/<start>-<end>.parquet`, every key's row sorted by key), read again only
 * when a newer window lands or the object changes.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIX, WINDOW_COLUMNS } from '../../functions/core/constants';
import type { WindowBounds } from '../../functions/core/types';
import { listObjects, type ListedObject } from '../start/bucketObjects';
import { jsonValue } from '../start/inputFile';

/** A cell as JSON carries it: int64 as a number when safe (else text), timestamps as ISO-8601 text. */
export type Cell = string | number | boolean | null;

/** The newest window of one result table. */
export interface LatestWindowRows {
  readonly objectKey: string;
  /** Parsed from the object's name; null for names of another shape (session passes). */
  readonly window: WindowBounds | null;
  /** The object's columns, less `window_start` and `window_end` when `window` says them already. */
  readonly columns: readonly string[];
  /** The first `maxRows` rows, in the object's order (by key). */
  readonly rows: readonly (readonly Cell[])[];
  readonly totalRows: number;
}

/** What the console reads of a result table. */
export interface TableResults {
  readonly table: string;
  /** Parquet objects under the table's prefix: one per emitted window. */
  readonly windowsEmitted: number;
  readonly latest: LatestWindowRows | null;
}

/** Decodes a Parquet object into row objects. */
export type ParquetDecoder = (bytes: ArrayBuffer) => Promise<Record<string, unknown>[]>;

/** hyparquet (ESM-only, hence the dynamic import), the reader `shardflow run --input x.parquet` uses. */
export const decodeParquet: ParquetDecoder = async (file) => {
  const { parquetReadObjects } = await import('hyparquet');
  return parquetReadObjects({ file });
};

const WINDOW_NAME = /\/(\d+)-(\d+)\.parquet$/;

/** The window an object's name gives, if it has the `<start>-<end>.parquet` shape. */
export function windowOfKey(key: string): WindowBounds | null {
  const match = WINDOW_NAME.exec(key);
  return match === null ? null : { start: Number(match[1]), end: Number(match[2]) };
}

/** The newest result object: the latest window end (then start), else the latest write. */
export function newestResultObject(objects: readonly ListedObject[]): ListedObject | undefined {
  let best: ListedObject | undefined;
  const rank = (o: ListedObject): [number, number, number] => {
    const w = windowOfKey(o.key);
    return [w?.end ?? -Infinity, w?.start ?? -Infinity, o.lastModified];
  };
  for (const object of objects) {
    if (!object.key.endsWith('.parquet')) continue;
    if (best === undefined) {
      best = object;
      continue;
    }
    const [a, b] = [rank(object), rank(best)];
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best = object;
  }
  return best;
}

const cell = (v: unknown): Cell =>
  v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : (v as Cell);

/** The first `maxRows` rows as cells under the first row's fields but `omit`, JSON-safe. */
export function toCells(
  rows: readonly Record<string, unknown>[],
  maxRows: number,
  omit: readonly string[] = [],
): Pick<LatestWindowRows, 'columns' | 'rows'> {
  const columns = Object.keys(rows[0] ?? {}).filter((c) => !omit.includes(c));
  const safe = JSON.parse(JSON.stringify(rows.slice(0, maxRows), jsonValue)) as Record<string, unknown>[];
  return {
    columns,
    rows: safe.map((row) => columns.map((c) => cell(row[c]))),
  };
}

/** Reads the newest window of `table` on each call, fetching its object only when it is new or changed. */
export class LatestResults {
  #cached: { readonly key: string; readonly etag: string; readonly rows: LatestWindowRows } | undefined;

  public constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly table: string,
    private readonly options: { readonly maxRows?: number; readonly decode?: ParquetDecoder } = {},
  ) {}

  public async read(): Promise<TableResults> {
    const objects = await listObjects(this.s3, this.bucket, `${BUCKET_PREFIX.RESULTS}${this.table}/`);
    const windowsEmitted = objects.filter((o) => o.key.endsWith('.parquet')).length;
    const newest = newestResultObject(objects);
    if (newest === undefined) return { table: this.table, windowsEmitted, latest: null };
    const cached = this.#cached;
    if (cached !== undefined && cached.key === newest.key && cached.etag === newest.etag)
      return { table: this.table, windowsEmitted, latest: cached.rows };
    const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: newest.key }));
    const bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = await (this.options.decode ?? decodeParquet)(file);
    const window = windowOfKey(newest.key);
    const latest: LatestWindowRows = {
      objectKey: newest.key,
      window,
      ...toCells(rows, this.options.maxRows ?? 20, window === null ? [] : Object.values(WINDOW_COLUMNS)),
      totalRows: rows.length,
    };
    this.#cached = { key: newest.key, etag: newest.etag, rows: latest };
    return { table: this.table, windowsEmitted, latest };
  }
}
