import type { S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import { isRejectedResultKey, rejectedResultsPrefix } from '../../functions/core/state/paths';
import { listObjects, SummarizedObjects, type SummarizedObject } from './bucketObjects';

/** Counts of what a pipeline has written to its results bucket. */
export interface BucketCounts {
  /** Result objects under `results/` (one per emitted window). */
  readonly windowsEmitted: number;
  /**
   * Records in the `rejected/` JSON Lines objects: rejected input records (result rows dead-lettered for their
   * size are under `rejected-results/`, counted by `ResultDeadLetterCounter`).
   */
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

const total = (objects: readonly SummarizedObject<number>[]): number =>
  objects.reduce((sum, o) => sum + o.summary, 0);

/**
 * Counts results, rejected and late records in a bucket, re-reading only objects that are new or
 * changed (by ETag) since the last call, so polling it for live progress stays cheap.
 */
export class BucketCounter {
  readonly #rejected: SummarizedObjects<number>;
  readonly #late: SummarizedObjects<number>;

  public constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {
    this.#rejected = new SummarizedObjects(s3, bucket, BUCKET_PREFIX.REJECTED, countSideOutputRecords);
    this.#late = new SummarizedObjects(s3, bucket, BUCKET_PREFIX.LATE, countSideOutputRecords);
  }

  public async counts(): Promise<BucketCounts> {
    const [results, rejected, late] = await Promise.all([
      listObjects(this.s3, this.bucket, BUCKET_PREFIX.RESULTS),
      this.#rejected.read(),
      this.#late.read(),
    ]);
    return {
      windowsEmitted: results.filter((o) => o.key.endsWith('.parquet')).length,
      rejected: total(rejected),
      late: total(late),
    };
  }
}

/** The result rows an object under `rejected-results/` holds: its lines when it is a result dead letter, else none. */
export function countResultDeadLetters(text: string, key: string): number {
  return isRejectedResultKey(key) ? countSideOutputRecords(text) : 0;
}

/**
 * Counts the result rows of one table dead-lettered for being over the Kinesis record limit
 * (`rejected-results/<table>/`, `.sink({ toStream })`), each once (a pass run again overwrites its letter),
 * re-reading only objects that are new or changed since the last call.
 */
export class ResultDeadLetterCounter {
  readonly #letters: SummarizedObjects<number>;
  /** Where the table's result dead letters are. */
  public readonly prefix: string;

  public constructor(s3: S3Client, bucket: string, table: string) {
    this.prefix = rejectedResultsPrefix(table);
    this.#letters = new SummarizedObjects(s3, bucket, this.prefix, countResultDeadLetters);
  }

  public async count(): Promise<number> {
    return total(await this.#letters.read());
  }
}
