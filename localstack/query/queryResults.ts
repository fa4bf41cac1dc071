import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import { DuckDbQueryEngine } from './DuckDbQueryEngine';
import { mirrorBucket } from './mirrorBucket';
import type { QueryResult } from './types';

/** Options of {@link queryResults}. */
export interface QueryResultsOptions {
  readonly s3: S3Client;
  /** The results bucket. */
  readonly bucket: string;
}

/**
 * Mirrors `results/` (and the `rejected/` and `late/` side outputs) of the bucket to a temporary
 * directory, runs each SQL statement on DuckDB over it (one view per result table, plus `rejected` and
 * `late`), and removes the directory again.
 *
 * @example
 * const [answer] = await queryResults({ s3: s3Client(), bucket }, ['SELECT count(*) FROM page_activity']);
 */
export async function queryResults(
  options: QueryResultsOptions,
  statements: readonly string[],
): Promise<QueryResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'shardflow-query-'));
  try {
    await mirrorBucket({ s3: options.s3, bucket: options.bucket, prefix: BUCKET_PREFIX.RESULTS, dir });
    for (const prefix of [BUCKET_PREFIX.REJECTED, BUCKET_PREFIX.LATE]) {
      await mirrorBucket({ s3: options.s3, bucket: options.bucket, prefix, dir, suffix: '.jsonl' });
    }
    const engine = await DuckDbQueryEngine.open({ dataDir: dir });
    try {
      const results: QueryResult[] = [];
      for (const sql of statements) results.push(await engine.query(sql));
      return results;
    } finally {
      engine.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
