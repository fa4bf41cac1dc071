/**
 * A pipeline's exactly-once apply path on the embedded local cloud, driven from a test: the real
 * `BatchProcessor` over the DynamoDB state store (DynamoDB Local) and the S3 object store (s3rver), with a
 * test clock, and readers for what landed in the bucket (result rows through DuckDB, rejected and late
 * records). Needs `useLocalCloud()` in the test file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor, type BatchProcessorOptions } from '../../functions/core/state/BatchProcessor';
import type { StatefulPipeline } from '../../functions/core/state/types';
import type { EpochMillis, LateRecord, Rejection } from '../../functions/core/types';
import { createBucket, createStateTable, mirrorPrefix } from '../faults/localResources';

let tables = 0;

/** One pipeline's state table and results bucket on the local cloud, and instances over them. */
export interface StatefulCloudRun {
  readonly table: string;
  readonly bucket: string;
  /** The test clock every instance reads (processing time: idle detection, TTLs). */
  readonly clock: { now: EpochMillis };
  /** A new instance (cold cache), like another warm Lambda instance of the same function. */
  instance(options?: BatchProcessorOptions): BatchProcessor;
  /** Result rows of the pipeline's table, as DuckDB reads the Parquet objects (timestamps as epoch ms). */
  rows(select?: string): Promise<Record<string, unknown>[]>;
  /** Result objects under `results/`. */
  resultKeys(): Promise<string[]>;
  rejected(): Promise<Rejection[]>;
  late(): Promise<LateRecord[]>;
  dispose(): Promise<void>;
}

async function jsonLines<T>(bucket: string, prefix: string): Promise<T[]> {
  const { s3 } = createClients();
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      const body = await (
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))
      ).Body?.transformToString();
      for (const line of (body ?? '').split('\n')) if (line.length > 0) out.push(JSON.parse(line) as T);
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/** Creates a fresh state table and bucket for `pipeline` on the running local cloud. */
export async function statefulCloudRun(
  pipeline: StatefulPipeline,
  start: EpochMillis,
): Promise<StatefulCloudRun> {
  const clients = createClients();
  tables += 1;
  const table = `state-${process.pid}-${tables}`;
  const bucket = `results-${process.pid}-${tables}`;
  await createStateTable(clients.dynamoDb, table);
  await createBucket(clients.s3, bucket);
  const clock = { now: start };
  const dir = await mkdtemp(join(tmpdir(), 'shardflow-stateful-'));
  return {
    table,
    bucket,
    clock,
    instance: (options = {}) =>
      new BatchProcessor(
        {
          pipeline,
          store: new DynamoDBStateStore({ tableName: table, client: createClients().dynamoDb }),
          objects: new S3ObjectStore({ bucket, client: createClients().s3 }),
          encoder: new ParquetResultEncoder(),
          clock: { now: () => clock.now },
        },
        options,
      ),
    async rows(select = '*') {
      await rm(join(dir, 'results'), { recursive: true, force: true });
      const keys = await mirrorPrefix(clients.s3, bucket, 'results/', dir);
      if (keys.length === 0) return [];
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      try {
        const reader = await connection.runAndReadAll(
          `SELECT ${select} FROM (SELECT * REPLACE (epoch_ms(window_start) AS window_start, epoch_ms(window_end) AS window_end) FROM read_parquet('${dir}/results/${pipeline.spec.sink!.table}/**/*.parquet', hive_partitioning = true))`,
        );
        return (reader.getRowObjectsJS() as Record<string, unknown>[]).map((row) => ({
          ...row,
          ...('window_start' in row ? { window_start: Number(row.window_start) } : {}),
          ...('window_end' in row ? { window_end: Number(row.window_end) } : {}),
        }));
      } finally {
        connection.closeSync();
        db.closeSync();
      }
    },
    async resultKeys() {
      return (await jsonKeys(bucket, 'results/')).sort();
    },
    rejected: () => jsonLines<Rejection>(bucket, 'rejected/'),
    late: () => jsonLines<LateRecord>(bucket, 'late/'),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

async function jsonKeys(bucket: string, prefix: string): Promise<string[]> {
  return new S3ObjectStore({ client: createClients().s3, bucket }).listKeys(prefix);
}
