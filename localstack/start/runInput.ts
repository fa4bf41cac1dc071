import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from './errors';
import { detectFormat, readInputFile, type InputRecord } from './inputFile';

/** `s3://bucket/prefix` split into its parts, or undefined for a local path. */
export function parseS3Url(input: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(input);
  if (input.startsWith('s3://') && match === null)
    throw new InputError(`Invalid S3 URL: ${input} (expected s3://bucket/prefix)`);
  return match === null ? undefined : { bucket: match[1] as string, prefix: match[2] ?? '' };
}

/**
 * Reads bounded input: a local file, or every JSON Lines/CSV/Parquet object under an S3 prefix (in key
 * order, each read like a local file of the same extension).
 */
export async function readRunInput(
  input: string,
  keyField: string | undefined,
  client?: S3Client,
): Promise<InputRecord[]> {
  const url = parseS3Url(input);
  if (url === undefined) return readInputFile(input, keyField);
  if (client === undefined) throw new InputError(`Reading ${input} needs an S3 client`);
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client }, { Bucket: url.bucket, Prefix: url.prefix })) {
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      try {
        detectFormat(o.Key);
        keys.push(o.Key);
      } catch {
        // Not an input format (e.g. a _SUCCESS marker): skipped.
      }
    }
  }
  if (keys.length === 0) throw new InputError(`No .jsonl, .csv or .parquet objects under ${input}`);
  const dir = await mkdtemp(join(tmpdir(), 'shardflow-input-'));
  try {
    const records: InputRecord[] = [];
    for (const [i, key] of keys.sort().entries()) {
      const object = await client.send(new GetObjectCommand({ Bucket: url.bucket, Key: key }));
      const file = join(dir, `${i}-${basename(key)}`);
      await writeFile(file, (await object.Body?.transformToByteArray()) ?? new Uint8Array());
      records.push(...(await readInputFile(file, keyField)));
    }
    return records;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
