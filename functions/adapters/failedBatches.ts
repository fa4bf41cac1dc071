/**
 * The on-failure records Lambda writes for batches it skipped after their retries (an S3 on-failure
 * destination: one object per skipped batch under `aws/lambda/<mapping-uuid>/<shard-id>/…`). Counting
 * them is how a skipped batch stops being silent: the tick publishes the count, an alarm fires on it.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** Pages counted at most per call (1,000 keys each): beyond that the count says "at least". */
const MAX_PAGES = 10;

/**
 * Objects under `prefix` in `bucket`, counted up to `MAX_PAGES` listing pages (10,000 objects): enough
 * for an alarm at 1, and a bounded cost per tick.
 */
export async function countObjects(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let count = 0;
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const listed = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    count += listed.KeyCount ?? listed.Contents?.length ?? 0;
    token = listed.IsTruncated === true ? listed.NextContinuationToken : undefined;
    if (token === undefined) break;
  }
  return count;
}
