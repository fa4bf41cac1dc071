import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import { DuckDbQueryEngine, SIDE_VIEWS } from './DuckDbQueryEngine';
import { mirrorBucket } from './mirrorBucket';
import type { QueryResult } from './types';

/** Options of {@link queryResults}. */
export interface QueryResultsOptions {
  readonly s3: S3Client;
  /** The results bucket. */
  readonly bucket: string;
}

/**
 * Mirrors `results/` of the bucket (and the `rejected/`, `late/` and `clean/` side outputs when the SQL
 * names the view of the same name) to a temporary directory, runs each SQL statement on DuckDB over it,
 * and removes the directory again.
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
    // Side outputs can be large (clean/ is every record): mirrored only when the SQL names their view.
    for (const [view, prefix] of SIDE_VIEWS) {
      if (!statements.some((sql) => new RegExp(`\\b${view}\\b`, 'i').test(sql))) continue;
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
