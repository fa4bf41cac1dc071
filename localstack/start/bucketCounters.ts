import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIX } from '../../functions/core/constants';

/** Counts of what a pipeline has written to its results bucket. */
export interface BucketCounts {
  /** Result objects under `results/` (one per emitted window). */
  readonly windowsEmitted: number;
  /** Records in the `rejected/` JSON Lines objects. */
  readonly rejected: number;
  /** Records in the `late/` JSON Lines objects. */
  readonly late: number;
}

/** Records in one JSON Lines side-output object: one per non-empty line. */
export function countSideOutputRecords(text: string): number {
  let count = 0;
  for (const line of text.split('\n')) if (line.trim() !== '') count += 1;
  return count;
}

/**
 * Counts results, rejected and late records in a bucket, re-reading only objects that are new or
 * changed (by ETag) since the last call, so polling it for live progress stays cheap.
 */
export class BucketCounter {
  readonly #cache = new Map<string, { readonly etag: string; readonly records: number }>();

  public constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  public async counts(): Promise<BucketCounts> {
    const [results, rejected, late] = await Promise.all([
      this.#list(BUCKET_PREFIX.RESULTS),
      this.#list(BUCKET_PREFIX.REJECTED),
      this.#list(BUCKET_PREFIX.LATE),
    ]);
    return {
      windowsEmitted: results.filter((o) => o.key.endsWith('.parquet')).length,
      rejected: await this.#records(rejected),
      late: await this.#records(late),
    };
  }

  async #list(prefix: string): Promise<{ key: string; etag: string }[]> {
    const objects: { key: string; etag: string }[] = [];
    for await (const page of paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const o of page.Contents ?? [])
        if (o.Key !== undefined) objects.push({ key: o.Key, etag: o.ETag ?? '' });
    }
    return objects;
  }

  async #records(objects: readonly { key: string; etag: string }[]): Promise<number> {
    let total = 0;
    for (const { key, etag } of objects) {
      let cached = this.#cache.get(key);
      if (cached === undefined || cached.etag !== etag) {
        const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const text = (await object.Body?.transformToString('utf8')) ?? '';
        cached = { etag, records: countSideOutputRecords(text) };
        this.#cache.set(key, cached);
      }
      total += cached.records;
    }
    return total;
  }
}
