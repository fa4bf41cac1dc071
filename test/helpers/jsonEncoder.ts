import type { ResultEncoder } from '../../functions/core/state/types';

/** Result rows as JSON (bigints as numbers), so a test reads them back without Parquet. */
export const jsonEncoder: ResultEncoder = {
  contentType: 'application/json',
  extension: 'json',
  encode: (_columns, rows) =>
    new TextEncoder().encode(
      JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)),
    ),
};
