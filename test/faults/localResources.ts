/** Creates the state table and results bucket on the local cloud the way the stack does (for my integration tests). */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
export { createStateTable } from '../helpers/stateTable';

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Copies every object under `prefix` to `dir` (same relative keys); returns the keys. */
export async function mirrorPrefix(
  client: S3Client,
  bucket: string,
  prefix: string,
  dir: string,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      const body = await (
        await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))
      ).Body?.transformToByteArray();
      const file = join(dir, object.Key);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, body ?? new Uint8Array());
      keys.push(object.Key);
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}
