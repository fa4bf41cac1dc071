/** Shapes shared by the DuckDB and Athena query paths. */

/** One result cell, JSON friendly: integers beyond 2^53 and temporal values are text. */
export type Cell = string | number | boolean | null;

export interface QueryColumn {
  readonly name: string;
  /** Engine type name, e.g. `BIGINT`, `TIMESTAMP`, `varchar`. */
  readonly type: string;
}

/** A fully read result set. */
export interface QueryResult {
  readonly columns: readonly QueryColumn[];
  readonly rows: readonly (readonly Cell[])[];
}

/** Output formats of `shardflow query`. */
export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
