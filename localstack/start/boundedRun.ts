import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { runBounded } from '../../functions/core/runner/boundedRunner';
import type { RawRecord } from '../../functions/core/types';
import type { Cell, QueryResult } from '../query/types';
import { ShardflowCliError } from './errors';
import type { InputRecord } from './inputFile';
import { shardIdOf, shardIndexOf } from './shardRouting';

/** Result of an in-memory run: the rows as a query result plus the side-output counts. */
export interface InMemoryRunResult {
  readonly result: QueryResult;
  readonly rejected: number;
  readonly late: number;
  /** Producer duplicates `dedupeBy` dropped. */
  readonly duplicates: number;
  /** What the pipeline published (`.toStream()`), as the records a pipeline reading that stream gets. */
  readonly published: readonly InputRecord[];
  /** Result rows `.sink({ toStream })` did not publish for being over the Kinesis record limit (each once). */
  readonly resultsDeadLettered: number;
}

/** DuckDB's text form of a TIMESTAMP, so in-memory and deployed runs print the same. */
export function timestampText(epochMillis: number): string {
  return new Date(epochMillis)
    .toISOString()
    .replace('T', ' ')
    .replace(/(\.000)?Z$/, '');
}

function cell(value: string | number | bigint | boolean | null | undefined, type: string): Cell {
  if (value === null || value === undefined) return null;
  if (type === 'timestamp' && typeof value === 'number') return timestampText(value);
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}

/**
 * Runs a pipeline over bounded input in memory (the engine's bounded runner: the reference semantics).
 * Records keep file order and go to the shards of the pipeline's stream the way Kinesis routes them (by
 * the MD5 of the partition key), as the local stack does, so lateness is judged from the same per-shard
 * order; they are decoded exactly like Kinesis records, so bad lines are rejected the same way.
 */
export async function runInMemory(
  pipeline: CompiledPipeline<unknown>,
  records: readonly InputRecord[],
  arrival: number,
): Promise<InMemoryRunResult> {
  const shards = Array.from({ length: pipeline.spec.source.shards ?? 1 }, (_, i) => shardIdOf(i));
  const sequences = shards.map(() => 0);
  const raw: RawRecord[] = records.map((r) => {
    const index = shardIndexOf(r.partitionKey, shards.length);
    return {
      shardId: shards[index]!,
      sequenceNumber: String((sequences[index] = sequences[index]! + 1)),
      partitionKey: r.partitionKey,
      data: Buffer.from(r.data, 'utf8').toString('base64'),
      approximateArrivalTimestamp: arrival,
    };
  });
  const { rows, rejected, late, duplicates, published, resultsDeadLettered } = await runBounded(
    pipeline,
    raw,
    {
      shards,
    },
  );
  const columns = pipeline.spec.columns;
  return {
    result: {
      columns: columns.map((c) => ({ name: c.name, type: c.type })),
      rows: rows.map((row) => columns.map((c) => cell(row[c.name], c.type))),
    },
    rejected: rejected.length,
    late: late.length,
    duplicates,
    published,
    resultsDeadLettered: resultsDeadLettered.length,
  };
}

/** The SQL that reads a result table back in the in-memory run's column and row order. */
export function resultTableSql(pipeline: CompiledPipeline<unknown>): string {
  if (pipeline.spec.sink === undefined)
    throw new ShardflowCliError(`Pipeline ${pipeline.spec.name} only publishes: it has no result table`);
  const columns = pipeline.spec.columns.map((c) => `"${c.name}"`);
  const key = columns[0] ?? '1';
  return `SELECT ${columns.join(', ')} FROM "${pipeline.spec.sink.table}" ORDER BY window_start, window_end, ${key}`;
}
