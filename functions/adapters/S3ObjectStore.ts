/** The results bucket as an `ObjectStore`: PutObject / ListObjectsV2 / DeleteObject and nothing else. */
import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStore } from '../core/state/types';
import { StateError } from '../core/state/errors';
import { s3Client } from './aws';

/** Settings of an `S3ObjectStore`. */
export interface S3ObjectStoreOptions {
  /** Bucket name (the stack passes it in `SHARDFLOW_RESULTS_BUCKET`). */
  readonly bucket: string;
  /**
   * Client to use.
   * @default the shared client of `functions/adapters/aws.ts`
   */
  readonly client?: S3Client;
}

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  /** Requests sent, for metrics and benchmarks. */
  public requests = 0;

  public constructor(options: S3ObjectStoreOptions) {
    if (options.bucket === '') throw new StateError('bucket must not be empty');
    this.#bucket = options.bucket;
    this.#client = options.client ?? s3Client();
  }

  public async putObject(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    this.requests += 1;
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  public async listKeys(prefix: string, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      this.requests += 1;
      const page = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: prefix,
          ...(startAfter !== undefined && token === undefined ? { StartAfter: startAfter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  public async deleteObject(key: string): Promise<void> {
    this.requests += 1;
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
  }
}
