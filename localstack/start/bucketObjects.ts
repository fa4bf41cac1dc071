/**
 * Reading a prefix of the results bucket over and over (live progress, the console): the listing, and the
 * objects' text reduced to a summary once per object version, so a poll reads only what is new or changed.
 */
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

/** One object of a listing. */
export interface ListedObject {
  readonly key: string;
  readonly etag: string;
  /** Epoch ms; 0 when the store gave none. */
  readonly lastModified: number;
}

/** One object with what the summary function made of its text. */
export interface SummarizedObject<S> extends ListedObject {
  readonly summary: S;
}

/** Every object under `prefix`, in key order. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? [])
      if (o.Key !== undefined)
        objects.push({ key: o.Key, etag: o.ETag ?? '', lastModified: o.LastModified?.getTime() ?? 0 });
  }
  return objects;
}

/**
 * The objects under one prefix, each summarised from its text once per version (ETag): `read` lists the
 * prefix and fetches only objects that are new or changed since the last call; objects that are gone are
 * forgotten.
 *
 * @example
 * const rejected = new SummarizedObjects(s3, bucket, 'rejected/', countSideOutputRecords);
 * const total = (await rejected.read()).reduce((n, o) => n + o.summary, 0);
 */
export class SummarizedObjects<S> {
  readonly #cache = new Map<string, { readonly etag: string; summary: S; slim: boolean }>();

  /**
   * @param older Only the `newest` objects (by modification time, then key) keep their whole summary; the
   *   others' are replaced by `slim` of it once, so what is held stays bounded as the prefix grows (e.g. the
   *   console keeps the rejections it shows only for the objects they can come from).
   */
  public constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly summarize: (text: string, key: string) => S,
    private readonly older?: { readonly newest: number; readonly slim: (summary: S) => S },
  ) {}

  public async read(): Promise<SummarizedObject<S>[]> {
    const listed = await listObjects(this.s3, this.bucket, this.prefix);
    const out: SummarizedObject<S>[] = [];
    const seen = new Set<string>();
    for (const object of listed) {
      seen.add(object.key);
      let cached = this.#cache.get(object.key);
      if (cached === undefined || cached.etag !== object.etag) {
        const got = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key }));
        const text = (await got.Body?.transformToString('utf8')) ?? '';
        cached = { etag: object.etag, summary: this.summarize(text, object.key), slim: false };
        this.#cache.set(object.key, cached);
      }
      out.push({ ...object, summary: cached.summary });
    }
    for (const key of this.#cache.keys()) if (!seen.has(key)) this.#cache.delete(key);
    return this.older === undefined ? out : this.#slimOlder(out, this.older);
  }

  #slimOlder(
    objects: SummarizedObject<S>[],
    older: { readonly newest: number; readonly slim: (summary: S) => S },
  ): SummarizedObject<S>[] {
    const byAge = [...objects].sort((a, b) => b.lastModified - a.lastModified || (a.key < b.key ? 1 : -1));
    const kept = new Set(byAge.slice(0, older.newest).map((o) => o.key));
    return objects.map((object) => {
      const cached = this.#cache.get(object.key)!;
      if (kept.has(object.key) || cached.slim) return { ...object, summary: cached.summary };
      cached.summary = older.slim(cached.summary);
      cached.slim = true;
      return { ...object, summary: cached.summary };
    });
  }
}
