import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import { InputError } from './errors';
import { detectFormat, partitionKeyOf, readInput, type InputRead, type InputRecord } from './inputFile';

/** `s3://bucket/prefix` split into its parts, or undefined for a local path. */
export function parseS3Url(input: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(input);
  if (input.startsWith('s3://') && match === null)
    throw new InputError(`Invalid S3 URL: ${input} (expected s3://bucket/prefix)`);
  return match === null ? undefined : { bucket: match[1] as string, prefix: match[2] ?? '' };
}

/**
 * A record of the `clean/` archive (`{ shardId, sequenceNumber, eventTime, value }`) turned back into
 * the payload that was cleaned, so an archive replays through the same pipeline; other lines unchanged.
 */
export function unwrapArchived(
  record: InputRecord,
  keyField: string | undefined,
  index: number,
): InputRecord {
  try {
    const parsed = JSON.parse(record.data) as {
      value?: unknown;
      sequenceNumber?: unknown;
      eventTime?: unknown;
    };
    if (
      parsed.value !== undefined &&
      typeof parsed.sequenceNumber === 'string' &&
      typeof parsed.eventTime === 'number'
    ) {
      return {
        data: JSON.stringify(parsed.value),
        partitionKey: partitionKeyOf(parsed.value, keyField, index),
      };
    }
  } catch {
    // Not JSON: passed on, the pipeline rejects it.
  }
  return record;
}

/**
 * Reads bounded input: a local file, or every JSON Lines/CSV/Parquet object under an S3 prefix (in key
 * order, each read like a local file of the same extension). Objects under `clean/` are the pipeline's
 * own archive and are unwrapped to the original payloads (replay).
 */
export async function readRunInput(
  input: string,
  keyField: string | undefined,
  client?: S3Client,
): Promise<InputRead> {
  const url = parseS3Url(input);
  if (url === undefined) return readInput(input, keyField);
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
    let blankLines = 0;
    for (const [i, key] of keys.sort().entries()) {
      const object = await client.send(new GetObjectCommand({ Bucket: url.bucket, Key: key }));
      const file = join(dir, `${i}-${basename(key)}`);
      await writeFile(file, (await object.Body?.transformToByteArray()) ?? new Uint8Array());
      const read = await readInput(file, keyField);
      blankLines += read.blankLines;
      const archived = key.startsWith(BUCKET_PREFIX.CLEAN);
      records.push(
        ...(archived
          ? read.records.map((r, j) => unwrapArchived(r, keyField, records.length + j))
          : read.records),
      );
    }
    return { records, blankLines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
