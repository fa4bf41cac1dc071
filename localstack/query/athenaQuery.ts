import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type AthenaClient,
  type GetQueryResultsCommandOutput,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { AthenaQueryError } from './errors';
import type { Cell, QueryResult } from './types';

/** Where and how an Athena query runs. */
export interface AthenaQueryOptions {
  /** Athena workgroup (from the stack outputs); it carries the result location and encryption. */
  readonly workGroup: string;
  /** Glue database holding the result tables. */
  readonly database?: string;
  /** @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** Idempotency token; a retry with the same token does not start a second query. */
  readonly clientRequestToken?: string;
  /** Delay between GetQueryExecution polls, ms. @default 500 */
  readonly pollIntervalMs?: number;
  /** Give up (and report the execution id) after this long, ms. @default 300000 */
  readonly timeoutMs?: number;
  /** Injected for tests. @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The StartQueryExecution request for a SQL string. */
export function buildStartQueryExecutionInput(
  sql: string,
  options: AthenaQueryOptions,
): StartQueryExecutionCommandInput {
  return {
    QueryString: sql,
    WorkGroup: options.workGroup,
    ...(options.database !== undefined
      ? {
          QueryExecutionContext: { Database: options.database, Catalog: options.catalog ?? 'AwsDataCatalog' },
        }
      : {}),
    ...(options.clientRequestToken !== undefined ? { ClientRequestToken: options.clientRequestToken } : {}),
  };
}

const NUMERIC_TYPES = new Set([
  'tinyint',
  'smallint',
  'integer',
  'bigint',
  'double',
  'float',
  'real',
  'decimal',
]);

/**
 * Runs SQL on Amazon Athena: StartQueryExecution, poll GetQueryExecution until it ends, then read
 * every page of GetQueryResults.
 *
 * @throws AthenaQueryError when the query fails, is cancelled or exceeds `timeoutMs`.
 */
export async function runAthenaQuery(
  client: Pick<AthenaClient, 'send'>,
  sql: string,
  options: AthenaQueryOptions,
): Promise<QueryResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = await client.send(
    new StartQueryExecutionCommand(buildStartQueryExecutionInput(sql, options)),
  );
  const id = started.QueryExecutionId;
  if (id === undefined) throw new AthenaQueryError('Athena did not return a query execution id');
  const pollMs = options.pollIntervalMs ?? 500;
  const deadline = (options.timeoutMs ?? 300_000) / Math.max(1, pollMs);
  for (let polls = 0; ; polls++) {
    const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = QueryExecution?.Status?.StateChangeReason ?? 'no reason given';
      throw new AthenaQueryError(`Athena query ${id} ${state}: ${reason.split('\n')[0]}`, id);
    }
    if (polls >= deadline)
      throw new AthenaQueryError(
        `Athena query ${id} still ${state ?? 'pending'} after ${options.timeoutMs ?? 300_000} ms`,
        id,
      );
    await sleep(pollMs);
  }
  let columns: QueryResult['columns'] = [];
  const rows: Cell[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page: GetQueryResultsCommandOutput = await client.send(
      new GetQueryResultsCommand({
        QueryExecutionId: id,
        ...(token !== undefined ? { NextToken: token } : {}),
      }),
    );
    if (first) {
      columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
        name: c.Name ?? '',
        type: c.Type ?? 'varchar',
      }));
    }
    const pageRows = page.ResultSet?.Rows ?? [];
    pageRows.forEach((row, index) => {
      const values = (row.Data ?? []).map((d) => d.VarCharValue);
      // For SELECT, Athena repeats the column names as the first row of the first page.
      if (
        first &&
        index === 0 &&
        values.length === columns.length &&
        values.every((v, i) => v === columns[i]?.name)
      )
        return;
      rows.push(values.map((v, i) => toCell(v, columns[i]?.type ?? 'varchar')));
    });
    first = false;
    token = page.NextToken;
  } while (token !== undefined);
  return { columns, rows };
}

function toCell(value: string | undefined, type: string): Cell {
  if (value === undefined) return null;
  if (type === 'boolean') return value === 'true';
  if (NUMERIC_TYPES.has(type)) {
    const n = Number(value);
    return Number.isFinite(n) && (type !== 'bigint' || Number.isSafeInteger(n)) ? n : value;
  }
  return value;
}
