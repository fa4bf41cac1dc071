import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
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

/** What one {@link mirrorBucket} call did. */
export interface MirrorStats {
  /** Objects under the prefix (with the suffix) now in the mirror. */
  readonly objects: number;
  /** Bytes downloaded by this call. */
  readonly bytes: number;
  /** Objects downloaded: new keys, or keys whose ETag or size changed (or whose local file did not match). */
  readonly fetched: number;
  /** Objects already in the mirror with the same ETag and size: not downloaded. */
  readonly reused: number;
  /** Local files removed because their object is gone from the bucket. */
  readonly deleted: number;
}

/**
 * Directory of `dir` holding the manifests (one per prefix and suffix). No object key may land in it: keys
 * whose first segment is this name are refused like keys escaping `dir`.
 */
export const MANIFEST_DIR = '.mirror-manifest';
/** Temporary download files (`.<file>.<pid>-<random>.part`) end with this, never with a mirrored suffix. */
const PART_SUFFIX = '.part';
/** A `.part` file older than this is left over from an interrupted call, and removed. */
const STALE_PART_MS = 15 * 60_000;

interface Listed {
  readonly key: string;
  readonly target: string;
  readonly etag: string | undefined;
  readonly size: number | undefined;
}

/** Manifest entry: what the local file of a key holds. */
interface Entry {
  readonly etag: string;
  readonly size: number;
}

/**
 * Keeps a local directory in step with the objects under a prefix of a bucket, keeping the key layout, so
 * DuckDB can read it with hive partitioning. Incremental: the prefix is listed, and only objects whose key
 * is new or whose ETag or size changed since the last call are downloaded (an object can be rewritten under
 * the same key); local files whose object is gone are removed.
 *
 * What each local file holds is recorded in a manifest (`<dir>/.mirror-manifest/<hash of prefix and
 * suffix>.json`, key → ETag and size). Downloads and the manifest are written to a temporary file and
 * renamed into place, and the manifest only ever names a file after it was renamed into place, so an
 * interrupted call (an error, a kill) never leaves a file a later call trusts: a file is reused only when
 * the manifest has the listed ETag and size for it and the file on disk has that size. Objects listed
 * without an ETag are always downloaded. Keys that would escape `dir` are refused.
 *
 * Not safe for two calls on the same `dir` at once: `queryResults` serializes them with a lock (see
 * `queryMirror.ts`).
 *
 * @returns the objects mirrored, and how many were downloaded (with their bytes), reused and removed.
 */
export async function mirrorBucket(options: MirrorOptions): Promise<MirrorStats> {
  const { s3, bucket, prefix, suffix = '.parquet' } = options;
  const root = resolve(options.dir);
  const manifestFile = join(
    root,
    MANIFEST_DIR,
    `${createHash('sha256').update(`${prefix}\0${suffix}`).digest('hex').slice(0, 16)}.json`,
  );
  // The local side is read while the bucket is listed (neither of these two rejects).
  const [listed, files, manifest] = await Promise.all([
    list(s3, bucket, prefix, suffix, root),
    localFiles(root, prefix),
    readManifest(manifestFile),
  ]);
  const wanted = new Set(listed.map((object) => object.target));
  let deleted = 0;

  // Entries (and files) whose object is gone.
  for (const key of Object.keys(manifest)) {
    const target = resolve(root, key);
    if (wanted.has(target)) continue;
    delete manifest[key];
    if (target.startsWith(root + sep) && (await removeFile(root, target))) deleted++;
  }
  // Files the manifest does not know of: renamed into place by a call that could not write its manifest.
  deleted += await removeUnlisted(root, prefix, suffix, wanted, files);

  const toFetch: Listed[] = [];
  let reused = 0;
  await forEachLimited(listed, 32, async (object) => {
    if (await isCurrent(object, manifest[object.key])) reused++;
    else toFetch.push(object);
  });

  let bytes = 0;
  let fetched = 0;
  let failure: unknown;
  try {
    await forEachLimited(toFetch, Math.min(64, Math.max(1, options.concurrency ?? 8)), async (object) => {
      if (failure !== undefined) return;
      try {
        // Until the new content is renamed into place, the entry (if any) still describes the old file.
        const got = await download(s3, bucket, object);
        if (got.etag !== undefined) manifest[object.key] = { etag: got.etag, size: got.size };
        else delete manifest[object.key];
        bytes += got.size;
        fetched++;
      } catch (error) {
        failure ??= error;
      }
    });
  } finally {
    await writeManifest(manifestFile, manifest);
  }
  if (failure !== undefined) throw failure;
  return { objects: listed.length, bytes, fetched, reused, deleted };
}

async function list(
  s3: S3Client,
  bucket: string,
  prefix: string,
  suffix: string,
  root: string,
): Promise<Listed[]> {
  const listed: Listed[] = [];
  try {
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.endsWith(suffix)) continue;
        listed.push({ key: object.Key, target: '', etag: object.ETag, size: object.Size });
      }
    }
  } catch (error) {
    throw new QueryError(`Cannot list s3://${bucket}/${prefix}: ${describe(error)}`, { cause: error });
  }
  return listed.map((object) => {
    const target = resolve(root, object.key);
    if (!target.startsWith(root + sep) || target.startsWith(join(root, MANIFEST_DIR) + sep))
      throw new QueryError(`Refusing object key outside the mirror: ${object.key}`);
    return { ...object, target };
  });
}

/** Whether a listed object's local file holds it: ETag and size as in the manifest, that size on disk. */
async function isCurrent(object: Listed, entry: Entry | undefined): Promise<boolean> {
  if (entry === undefined || object.etag === undefined || entry.etag !== object.etag) return false;
  if (object.size !== undefined && entry.size !== object.size) return false;
  try {
    const local = await stat(object.target);
    return local.isFile() && local.size === entry.size;
  } catch {
    return false;
  }
}

async function download(
  s3: S3Client,
  bucket: string,
  object: Listed,
): Promise<{ etag: string | undefined; size: number }> {
  let body: Uint8Array;
  let etag: string | undefined;
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
    if (got.Body === undefined) throw new Error('empty body');
    body = await got.Body.transformToByteArray();
    // The ETag of what was read (the object may have been rewritten since the listing).
    etag = got.ETag ?? object.etag;
  } catch (error) {
    throw new QueryError(`Cannot read s3://${bucket}/${object.key}: ${describe(error)}`, { cause: error });
  }
  await mkdir(dirname(object.target), { recursive: true });
  await writeAtomically(object.target, body);
  return { etag, size: body.byteLength };
}

/** Writes a temporary file next to `target`, renamed over it: readers see the old file or the new one. */
async function writeAtomically(target: string, data: Uint8Array | string): Promise<void> {
  const part = join(
    dirname(target),
    `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}${PART_SUFFIX}`,
  );
  try {
    await writeFile(part, data);
    await rename(part, target);
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
}

type Manifest = Record<string, Entry>;

/** The manifest, or an empty one (everything refetched) when it is missing or does not look exactly right. */
async function readManifest(file: string): Promise<Manifest> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return {};
  }
  const manifest: Manifest = {};
  const objects =
    typeof value === 'object' && value !== null ? (value as { objects?: unknown }).objects : undefined;
  if (typeof objects !== 'object' || objects === null) return {};
  for (const [key, entry] of Object.entries(objects)) {
    const { etag, size } = (entry ?? {}) as { etag?: unknown; size?: unknown };
    if (typeof etag === 'string' && typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)
      manifest[key] = { etag, size };
  }
  return manifest;
}

async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeAtomically(file, `${JSON.stringify({ version: 1, objects: manifest })}\n`);
}

/** The files (and directories) under the prefix's directory, absolute; none when there is none. */
async function localFiles(root: string, prefix: string): Promise<string[]> {
  const base = resolve(root, prefix.slice(0, prefix.lastIndexOf('/') + 1));
  if (base !== root && !base.startsWith(root + sep)) return [];
  try {
    return (await readdir(base, { recursive: true })).map((name) => join(base, name));
  } catch {
    return [];
  }
}

/**
 * Removes the `files` with `suffix` under the prefix that are not `wanted`, and `.part` files left over
 * from interrupted calls. @returns how many `suffix` files were removed.
 */
async function removeUnlisted(
  root: string,
  prefix: string,
  suffix: string,
  wanted: ReadonlySet<string>,
  files: readonly string[],
): Promise<number> {
  let removed = 0;
  const now = Date.now();
  for (const file of files) {
    const key = file
      .slice(root.length + 1)
      .split(sep)
      .join('/');
    if (!key.startsWith(prefix) || key.startsWith(`${MANIFEST_DIR}/`)) continue;
    if (file.endsWith(suffix) && !wanted.has(file)) {
      if (await removeFile(root, file)) removed++;
    } else if (file.endsWith(PART_SUFFIX)) {
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile() === true && now - info.mtimeMs > STALE_PART_MS) await rm(file, { force: true });
    }
  }
  return removed;
}

/** Removes a file (not a directory), and its parent directories below `root` that became empty. */
async function removeFile(root: string, file: string): Promise<boolean> {
  try {
    await unlink(file);
  } catch {
    return false;
  }
  // Empty partition directories are removed too (a failing rmdir means not empty: stop there).
  for (let dir = dirname(file); dir.startsWith(root + sep); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      break;
    }
  }
  return true;
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  each: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await each(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}
