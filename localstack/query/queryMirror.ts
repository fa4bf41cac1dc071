/**
 * Where `query` keeps its mirror of a results bucket between calls, and the lock that lets one call at a
 * time use a mirror.
 *
 * Layout: `<state dir>/query-mirror/<bucket>-<hash of endpoint and bucket>/` holding `data/` (the mirror,
 * see `mirrorBucket`), `lock` while a call uses it, and `last-used` (its time is when a call last used the
 * mirror; the least recently used mirrors are removed, see {@link pruneMirrors}).
 *
 * Locking: a call creates `lock` exclusively (`O_EXCL`) with its pid, host and a random token, holds it
 * while it updates the mirror and while DuckDB reads it (so no call ever deletes or replaces a file another
 * call's query is reading), and removes it (only if it still holds its token) at the end. A lock is stale
 * when its process is gone: on the same host, when that pid no longer exists; from another host (a shared
 * state directory), when the lock's time has not been refreshed for {@link STALE_LOCK_MS} (holders refresh
 * it every few seconds). A live process is never taken for stale on its own host, even when suspended,
 * so two calls never update one mirror at once. Stale locks are broken under a second exclusive file
 * (`lock.break`), which re-reads the lock and removes it only if it is still the one found stale, so two
 * callers breaking the same stale lock never remove a fresh one. A call that cannot get the lock within
 * its wait (another long query) falls back to a temporary mirror rather than waiting on.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { stateDirectory } from '../emulators/stateFile';

/** Directory under the state directory holding one mirror per endpoint and bucket. */
export const MIRRORS_DIR = 'query-mirror';
/** A lock from another host whose time is older than this is stale. */
export const STALE_LOCK_MS = 30_000;
const HEARTBEAT_MS = 5_000;
/** Mirrors kept besides the one in use; older ones (by last use) are removed. */
const MAX_MIRRORS = 8;
/** Mirrors not used for this long are removed. */
const MAX_IDLE_MS = 14 * 24 * 3_600_000;

/**
 * The persistent mirror directory of a bucket behind an S3 client: keyed by the client's endpoint (its
 * override, e.g. the local cloud's `http://127.0.0.1:4566`, else `aws:<region>`) and the bucket, so two
 * clouds never share a mirror.
 */
export async function mirrorDirectory(
  s3: S3Client,
  bucket: string,
  stateDir: string = stateDirectory(),
): Promise<string> {
  const source = await endpointOf(s3);
  const hash = createHash('sha256').update(`${source}\n${bucket}`).digest('hex').slice(0, 16);
  const readable = bucket.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63);
  return join(stateDir, MIRRORS_DIR, `${readable}-${hash}`);
}

/** The client's endpoint override as a URL, else `aws:<region>` (bucket names are unique within AWS). */
export async function endpointOf(s3: S3Client): Promise<string> {
  const endpoint = await s3.config.endpoint?.();
  if (endpoint !== undefined) {
    const port = endpoint.port === undefined ? '' : `:${endpoint.port}`;
    return `${endpoint.protocol}//${endpoint.hostname}${port}${endpoint.path}`;
  }
  return `aws:${await s3.config.region()}`;
}

/** A held mirror lock. */
export interface MirrorLock {
  /** Stops refreshing the lock and removes it if it is still ours. */
  release(): Promise<void>;
}

/** Options of {@link acquireMirrorLock}. */
export interface LockOptions {
  /** How long to wait for a live holder. @default 30_000 */
  readonly waitMs?: number;
  /** @default 50 */
  readonly pollMs?: number;
  /** Create the mirror directory when it is missing (else: `undefined`). @default true */
  readonly create?: boolean;
}

interface LockContent {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

/**
 * Takes the lock of the mirror at `dir` (created if missing), waiting up to `waitMs` for a live holder
 * and breaking stale locks; `undefined` when a live holder kept it all that time. Also marks the mirror
 * used now.
 */
export async function acquireMirrorLock(
  dir: string,
  options: LockOptions = {},
): Promise<MirrorLock | undefined> {
  const file = join(dir, 'lock');
  const mine: LockContent = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex') };
  const content = JSON.stringify(mine);
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  for (;;) {
    if (options.create !== false) await mkdir(dir, { recursive: true });
    try {
      await writeFile(file, content, { flag: 'wx' });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && options.create === false) return undefined;
      if (code === 'ENOENT') continue; // The mirror was removed meanwhile (pruned): create it again.
      if (code !== 'EEXIST') throw error;
    }
    const found = await readLock(file);
    if (found === undefined) continue; // Released meanwhile.
    if (isStale(found) && (await breakLock(file, found.text))) continue;
    if (Date.now() >= deadline) return undefined;
    await sleep(options.pollMs ?? 50);
  }
  await touch(join(dir, 'last-used'));
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(file, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    release: async () => {
      clearInterval(heartbeat);
      const held = await readFile(file, 'utf8').catch(() => undefined);
      if (held === content) await unlink(file).catch(() => undefined);
    },
  };
}

interface FoundLock {
  readonly text: string;
  readonly content: LockContent | undefined;
  readonly mtimeMs: number;
}

async function readLock(file: string): Promise<FoundLock | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { text, content: parseLock(text), mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // Released meanwhile.
    // Unreadable: taken for held now, so stale only once old.
    return { text: '', content: undefined, mtimeMs: Date.now() };
  }
}

function parseLock(text: string): LockContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockContent>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string')
      return { pid: value.pid, host: value.host, token: value.token };
  } catch {
    // Being written, or damaged: only its age tells.
  }
  return undefined;
}

/** On this host: its process is gone. Otherwise (another host, or unreadable): not refreshed for a while. */
function isStale(found: FoundLock): boolean {
  if (found.content !== undefined && found.content.host === hostname()) return !isAlive(found.content.pid);
  return Date.now() - found.mtimeMs > STALE_LOCK_MS;
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `file` if it still holds `text`, under `<file>.break` so only one caller breaks it at a time.
 * @returns false when another caller is breaking it (try again later).
 */
async function breakLock(file: string, text: string): Promise<boolean> {
  const guard = `${file}.break`;
  try {
    await writeFile(guard, String(process.pid), { flag: 'wx' });
  } catch {
    // A guard left by a breaker killed in these few lines is removed once old.
    const info = await stat(guard).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs > STALE_LOCK_MS) await rm(guard, { force: true });
    return false;
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => undefined)) === text)
      await unlink(file).catch(() => undefined);
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

/**
 * Removes mirrors beyond the {@link MAX_MIRRORS} most recently used, and mirrors unused for two weeks
 * (temporary clouds listen on a new port each time, so their mirrors are never used again), except
 * `keep` and mirrors in use. Best effort: errors are ignored.
 */
export async function pruneMirrors(keep: string, root: string): Promise<void> {
  try {
    const entries = (await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory());
    // Left by a call killed while removing a mirror.
    for (const entry of entries.filter((e) => e.name.startsWith('.trash-')))
      await rm(join(root, entry.name), { recursive: true, force: true });
    const used = await Promise.all(
      entries
        .filter((entry) => !entry.name.startsWith('.'))
        .map((entry) => join(root, entry.name))
        .filter((dir) => dir !== keep)
        .map(async (dir) => ({
          dir,
          at: (await stat(join(dir, 'last-used')).catch(() => undefined))?.mtimeMs ?? 0,
        })),
    );
    used.sort((a, b) => b.at - a.at);
    const now = Date.now();
    for (const [i, { dir, at }] of used.entries()) {
      if (i < MAX_MIRRORS && now - at < MAX_IDLE_MS) continue;
      const lock = await acquireMirrorLock(dir, { waitMs: 0, create: false });
      if (lock === undefined) continue;
      // Moved aside under its lock first, so a call waiting for the lock starts on a new, empty mirror
      // instead of one being deleted under it.
      const trash = join(root, `.trash-${randomBytes(6).toString('hex')}`);
      const moved = await rename(dir, trash).then(
        () => true,
        () => false,
      );
      await lock.release();
      if (moved) await rm(trash, { recursive: true, force: true });
    }
  } catch {
    // Pruning is housekeeping: a query never fails because of it.
  }
}

async function touch(file: string): Promise<void> {
  const now = new Date();
  try {
    await utimes(file, now, now);
  } catch {
    await writeFile(file, '').catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
