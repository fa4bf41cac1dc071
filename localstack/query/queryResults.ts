import { mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import type { DeclaredTable } from './declaredTables';
import { DuckDbQueryEngine, SIDE_VIEWS } from './DuckDbQueryEngine';
import { MANIFEST_DIR, mirrorBucket, type MirrorStats } from './mirrorBucket';
import { acquireMirrorLock, mirrorDirectory, pruneMirrors, type LockOptions } from './queryMirror';
import type { QueryResult } from './types';

/** Options of {@link queryResults}. */
export interface QueryResultsOptions {
  readonly s3: S3Client;
  /** The results bucket. */
  readonly bucket: string;
  /**
   * Keep the mirror between calls (only new or changed objects are downloaded). `false` mirrors into a
   * temporary directory removed at the end: for a bucket that will not outlive the call's caller (a
   * temporary cloud). @default true
   */
  readonly cache?: boolean;
  /**
   * The persistent mirror's directory. @default `<state dir>/query-mirror/<bucket>-<hash of the endpoint
   * and bucket>` (see `mirrorDirectory`)
   */
  readonly mirrorDir?: string;
  /** Waiting for another call using the same mirror; past it, this call uses a temporary mirror. */
  readonly lock?: Pick<LockOptions, 'waitMs' | 'pollMs'>;
  /** The Glue database the result views are also named under (`"<database>"."<table>"`). @default 'shardflow' */
  readonly database?: string;
  /** The result tables the stack declares: those without objects yet answer with 0 rows, as on Athena. */
  readonly declared?: readonly DeclaredTable[];
  /** Told what the mirroring did (objects downloaded vs reused), once the mirror is up to date. */
  readonly onMirror?: (report: MirrorReport) => void;
}

/** What {@link queryResults} did to bring its mirror up to date, summed over the prefixes it mirrored. */
export interface MirrorReport extends MirrorStats {
  /** `persistent`: the kept mirror; `temporary`: a throwaway one (`cache: false`, or the kept one busy). */
  readonly mirror: 'persistent' | 'temporary';
  readonly dir: string;
  readonly ms: number;
}

/**
 * Mirrors `results/` of the bucket (and the `rejected/`, `late/` and `clean/` side outputs when the SQL
 * names the view of the same name) to a local directory and runs each SQL statement on DuckDB over it.
 *
 * The mirror is kept (under the state directory, one per endpoint and bucket) and brought up to date on
 * each call: only objects that are new or changed since the last call are downloaded. One call at a time
 * uses a mirror (a lock file, see `queryMirror.ts`); a call that finds it busy for longer than
 * `lock.waitMs` uses a temporary mirror, as does `cache: false`.
 *
 * @example
 * const [answer] = await queryResults({ s3: s3Client(), bucket }, ['SELECT count(*) FROM page_activity']);
 */
export async function queryResults(
  options: QueryResultsOptions,
  statements: readonly string[],
): Promise<QueryResult[]> {
  // Side outputs can be large (clean/ is every record): mirrored only when the SQL names their view.
  const prefixes: (readonly [string, string])[] = [[BUCKET_PREFIX.RESULTS, '.parquet']];
  for (const [view, prefix] of SIDE_VIEWS) {
    if (statements.some((sql) => new RegExp(`\\b${view}\\b`, 'i').test(sql)))
      prefixes.push([prefix, '.jsonl']);
  }
  if (options.cache !== false) {
    const dir = resolve(options.mirrorDir ?? (await mirrorDirectory(options.s3, options.bucket)));
    const lock = await acquireMirrorLock(dir, options.lock);
    if (lock !== undefined) {
      try {
        return await mirrorAndQuery(options, prefixes, join(dir, 'data'), 'persistent', statements);
      } finally {
        await lock.release();
        if (options.mirrorDir === undefined) await pruneMirrors(dir, dirname(dir));
      }
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'shardflow-query-'));
  try {
    return await mirrorAndQuery(options, prefixes, dir, 'temporary', statements);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Brings the mirror at `data` up to date and runs the statements on DuckDB over it.
 *
 * DuckDB gets a directory of links to the prefixes this call brings up to date, not `data` itself: a
 * kept mirror may also hold side outputs an earlier call mirrored (not up to date now, and slow to open).
 *
 * On a kept mirror an earlier call filled, DuckDB opens (which reads every Parquet footer) while the
 * bucket is listed. When the listing changes nothing (the common repeated query), the files it opened are
 * the ones the mirror still holds, so it is used; when anything was downloaded or removed (or the early
 * open failed, e.g. on a file removed under it), it is closed and DuckDB opens again on the updated mirror.
 */
async function mirrorAndQuery(
  options: QueryResultsOptions,
  prefixes: readonly (readonly [string, string])[],
  data: string,
  kind: MirrorReport['mirror'],
  statements: readonly string[],
): Promise<QueryResult[]> {
  const warm =
    kind === 'persistent' &&
    (await stat(join(data, MANIFEST_DIR)).then(
      () => true,
      () => false,
    ));
  const view = await mkdtemp(join(tmpdir(), 'shardflow-query-view-'));
  const engineOptions = {
    dataDir: view,
    ...(options.database !== undefined ? { database: options.database } : {}),
    ...(options.declared !== undefined ? { declared: options.declared } : {}),
  };
  let early: Promise<DuckDbQueryEngine | undefined> | undefined;
  let engine: DuckDbQueryEngine | undefined;
  try {
    for (const [prefix] of prefixes) {
      const name = prefix.replace(/\/+$/, '');
      await mkdir(join(data, name), { recursive: true });
      // A junction on Windows (no privilege needed); a symbolic link elsewhere.
      await symlink(join(data, name), join(view, name), 'junction');
    }
    if (warm) early = DuckDbQueryEngine.open(engineOptions).catch(() => undefined);
    const changed = await mirror(options, prefixes, data, kind);
    const opened = await early;
    early = undefined;
    if (opened !== undefined && !changed) {
      engine = opened;
    } else {
      opened?.close();
      engine = await DuckDbQueryEngine.open(engineOptions);
    }
    const results: QueryResult[] = [];
    for (const sql of statements) results.push(await engine.query(sql));
    return results;
  } finally {
    engine?.close();
    if (early !== undefined) (await early)?.close();
    await rm(view, { recursive: true, force: true });
  }
}

/** Brings each prefix of the mirror up to date. @returns whether any file was downloaded or removed. */
async function mirror(
  options: QueryResultsOptions,
  prefixes: readonly (readonly [string, string])[],
  dir: string,
  kind: MirrorReport['mirror'],
): Promise<boolean> {
  const started = performance.now();
  const total = { objects: 0, bytes: 0, fetched: 0, reused: 0, deleted: 0 };
  for (const [prefix, suffix] of prefixes) {
    const stats = await mirrorBucket({ s3: options.s3, bucket: options.bucket, prefix, dir, suffix });
    for (const k of Object.keys(total) as (keyof MirrorStats)[]) total[k] += stats[k];
  }
  options.onMirror?.({ ...total, mirror: kind, dir, ms: Math.round(performance.now() - started) });
  return total.fetched + total.deleted > 0;
}
