/**
 * Bench part `query`: `queryResults` (what `shardflow query` runs) over a results bucket of 2,000 small
 * Parquet objects on the embedded local cloud (s3rver), in one run: rounds of the first call (cold
 * mirror: every object downloaded) and a repeated call on the unchanged bucket (the kept mirror: a
 * listing, no download), medians over the rounds; then a call after a few objects were added, and a call
 * with `cache: false` (a throwaway mirror each call, what every call cost before the mirror was kept).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import type { ColumnSpec, ResultRow } from '../../functions/core/types';
import { STATE_DIR_ENV } from '../../localstack/emulators/stateFile';
import { MIRRORS_DIR } from '../../localstack/query/queryMirror';
import { queryResults, type MirrorReport } from '../../localstack/query/queryResults';
import { createBucket, startBenchCloud } from './benchCloud';

/** The figures written under `query` in results.json. */
export interface QueryFigures {
  /** Result objects in the bucket. */
  readonly objects: number;
  /** Wall time of the first call: cold mirror, every object downloaded, then DuckDB (median over rounds). */
  readonly firstMs: number;
  /** Wall time of the same call again on the unchanged bucket (median over rounds). */
  readonly repeatMs: number;
  /** Rounds of (cold mirror, first call, repeated call) in the run. */
  readonly rounds: number;
  /** repeatMs / firstMs (goal ≤ 0.2). */
  readonly repeatRatio: number;
  /** Of those calls, bringing the mirror up to date (the rest is DuckDB). */
  readonly firstMirrorMs: number;
  readonly repeatMirrorMs: number;
  /** Objects downloaded by the repeated call (0 expected). */
  readonly repeatFetched: number;
  /** Objects added before the third call, and its wall time. */
  readonly newObjects: number;
  readonly newObjectsMs: number;
  /** Wall time of a call with `cache: false` (a throwaway mirror, as every call was before). */
  readonly throwawayMs: number;
}

const TABLE = 'page_activity_minutely';
const BUCKET = 'bench-query-results';
const ROWS_PER_OBJECT = 20;
const COLUMNS: readonly ColumnSpec[] = [
  { name: 'page', type: 'string' },
  { name: 'window_start', type: 'timestamp' },
  { name: 'window_end', type: 'timestamp' },
  { name: 'events', type: 'bigint' },
  { name: 'revenue', type: 'double' },
];
const SQL = `SELECT count(*) AS n, sum(events) AS events, count(DISTINCT dt || '/' || hour) AS partitions FROM ${TABLE}`;
const T0 = Date.UTC(2026, 0, 1);

/** Object `i`: one closed minute of 20 pages, in hourly partitions of 60 objects over days. */
function resultObject(encoder: ParquetResultEncoder, i: number): { key: string; body: Uint8Array } {
  const start = T0 + i * 60_000;
  const at = new Date(start).toISOString();
  const rows: ResultRow[] = Array.from({ length: ROWS_PER_OBJECT }, (_, p) => ({
    page: `/page/${p}`,
    window_start: start,
    window_end: start + 60_000,
    events: 1 + ((i + p) % 7),
    revenue: (i % 13) * 0.5,
  }));
  const key = `${BUCKET_PREFIX.RESULTS}${TABLE}/dt=${at.slice(0, 10)}/hour=${at.slice(11, 13)}/emission-${i}.parquet`;
  return { key, body: encoder.encode(COLUMNS, rows) };
}

/** The call of median wall time. */
function median<T extends { readonly ms: number }>(calls: readonly T[]): T {
  const sorted = [...calls].sort((a, b) => a.ms - b.ms);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) throw new Error('query bench: no calls');
  return middle;
}

async function putObjects(s3: S3Client, from: number, to: number): Promise<void> {
  const encoder = new ParquetResultEncoder();
  let next = from;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < to; i = next++) {
      const { key, body } = resultObject(encoder, i);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

export async function runQueryBench(
  options: {
    readonly objects?: number;
    readonly added?: number;
    readonly rounds?: number;
    readonly log?: (line: string) => void;
  } = {},
): Promise<QueryFigures> {
  const log = options.log ?? ((line: string) => console.log(line));
  const objects = options.objects ?? 2_000;
  const added = options.added ?? 20;
  const rounds = options.rounds ?? 3;
  // The kept mirror lives under the state directory: a scratch one, so the bench starts cold.
  const stateDir = await mkdtemp(join(tmpdir(), 'shardflow-bench-query-'));
  const savedStateDir = process.env[STATE_DIR_ENV];
  process.env[STATE_DIR_ENV] = stateDir;
  const bench = await startBenchCloud({ kinesisEmulator: 'kinesalite' });
  try {
    const s3 = bench.clients().s3;
    await createBucket(s3, BUCKET);
    log(`query: putting ${objects} result objects…`);
    await putObjects(s3, 0, objects);

    const call = async (
      expected: number,
      extra: { readonly cache?: boolean } = {},
    ): Promise<{ ms: number; report: MirrorReport }> => {
      let report: MirrorReport | undefined;
      const started = performance.now();
      const [result] = await queryResults({ s3, bucket: BUCKET, ...extra, onMirror: (r) => (report = r) }, [
        SQL,
      ]);
      const ms = Math.round(performance.now() - started);
      const rows = result?.rows[0]?.[0];
      if (rows !== expected * ROWS_PER_OBJECT || report === undefined)
        throw new Error(`query bench: expected ${expected * ROWS_PER_OBJECT} rows, got ${String(rows)}`);
      return { ms, report };
    };

    // Rounds of (cold mirror → first call → repeated call); medians, as this shared machine varies.
    const firsts: { ms: number; report: MirrorReport }[] = [];
    const repeats: { ms: number; report: MirrorReport }[] = [];
    for (let round = 0; round < rounds; round++) {
      await rm(join(stateDir, MIRRORS_DIR), { recursive: true, force: true });
      const first = await call(objects);
      if (first.report.fetched !== objects) throw new Error('query bench: the first call did not start cold');
      const repeat = await call(objects);
      if (repeat.report.fetched !== 0) throw new Error('query bench: the repeated call downloaded objects');
      log(
        `query: round ${round + 1}: first ${first.ms} ms (mirror ${first.report.ms} ms), repeat ${repeat.ms} ms (mirror ${repeat.report.ms} ms, ${repeat.report.reused} reused)`,
      );
      firsts.push(first);
      repeats.push(repeat);
    }
    const first = median(firsts);
    const repeat = median(repeats);
    await putObjects(s3, objects, objects + added);
    const fresh = await call(objects + added);
    if (fresh.report.fetched !== added)
      throw new Error(`query bench: ${added} objects added, ${fresh.report.fetched} downloaded`);
    log(`query: after adding ${added} objects ${fresh.ms} ms`);
    const throwaway = await call(objects + added, { cache: false });
    log(`query: cache: false ${throwaway.ms} ms`);
    return {
      objects,
      firstMs: first.ms,
      repeatMs: repeat.ms,
      rounds,
      repeatRatio: Number((repeat.ms / first.ms).toFixed(3)),
      firstMirrorMs: first.report.ms,
      repeatMirrorMs: repeat.report.ms,
      repeatFetched: repeat.report.fetched,
      newObjects: added,
      newObjectsMs: fresh.ms,
      throwawayMs: throwaway.ms,
    };
  } finally {
    await bench.stop();
    if (savedStateDir === undefined) delete process.env[STATE_DIR_ENV];
    else process.env[STATE_DIR_ENV] = savedStateDir;
    await rm(stateDir, { recursive: true, force: true });
  }
}
