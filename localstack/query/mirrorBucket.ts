import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { QueryError } from './errors';

/** Options of {@link mirrorBucket}. */
export interface MirrorOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Key prefix to copy, e.g. `results/`. */
  readonly prefix: string;
  /** Local directory; object `k` is written to `<dir>/<k>`. */
  readonly dir: string;
  /** Only keys ending with this suffix are copied. @default '.parquet' */
  readonly suffix?: string;
  /** Parallel downloads, 1–64. @default 8 */
  readonly concurrency?: number;
}

/**
 * Copies every object under a prefix of a bucket to a local directory, keeping the key layout, so
 * DuckDB can read it with hive partitioning. Keys that would escape `dir` are refused.
 *
 * @returns the number of objects and bytes copied.
 */
export async function mirrorBucket(options: MirrorOptions): Promise<{ objects: number; bytes: number }> {
  const { s3, bucket, prefix, suffix = '.parquet' } = options;
  const root = resolve(options.dir);
  const keys: string[] = [];
  try {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined && object.Key.endsWith(suffix)) keys.push(object.Key);
      }
    }
  } catch (error) {
    throw new QueryError(`Cannot list s3://${bucket}/${prefix}: ${describe(error)}`, { cause: error });
  }
  let bytes = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < keys.length; i = next++) {
      const key = keys[i] as string;
      const target = resolve(root, key);
      if (!target.startsWith(root + sep))
        throw new QueryError(`Refusing object key outside the mirror: ${key}`);
      let body: Uint8Array;
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (object.Body === undefined) throw new Error('empty body');
        body = await object.Body.transformToByteArray();
      } catch (error) {
        throw new QueryError(`Cannot read s3://${bucket}/${key}: ${describe(error)}`, { cause: error });
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, body);
      bytes += body.byteLength;
    }
  };
  const concurrency = Math.min(64, Math.max(1, options.concurrency ?? 8));
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
  return { objects: keys.length, bytes };
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}
