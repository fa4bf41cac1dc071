import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LocalService } from './constants';

/** Environment variable that moves the state directory (tests use a temporary one). */
export const STATE_DIR_ENV = 'SHARDFLOW_STATE_DIR';
const DEFAULT_STATE_DIR = '.shardflow';
const STATE_FILE = 'local.json';
const LOG_FILE = 'local.log';

/** What `shardflow local up` records so that `status` and `down` can find it (`.shardflow/local.json`). */
export interface LocalCloudState {
  /** Process id of the `local up` process. */
  readonly pid: number;
  readonly endpoint: string;
  readonly endpoints: Readonly<Record<LocalService, string>>;
  /** Process group id of each emulator. */
  readonly pids: Readonly<Record<LocalService, number>>;
  /** ISO-8601 time the cloud became healthy. */
  readonly startedAt: string;
  /** The shardflow command that runs the cloud (`local up`, or `start`/`run` with `--keep`). @default 'local up' */
  readonly command?: CloudOwner;
  /** The Kinesis engine of the cloud. @default 'kinesis-mock' */
  readonly kinesis?: 'kinesis-mock' | 'kinesalite';
}

/** Commands that leave a local cloud running and record it here. */
export const CLOUD_OWNERS = ['local up', 'start', 'run'] as const;
export type CloudOwner = (typeof CLOUD_OWNERS)[number];

/** Whether a process exists (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the state's process still runs the command that recorded it: guards against a stale state file
 * whose pid now belongs to an unrelated process. On Linux its command line must name the command's words;
 * elsewhere only liveness can be checked.
 */
export async function ownerAlive(state: Pick<LocalCloudState, 'pid' | 'command'>): Promise<boolean> {
  if (!processAlive(state.pid)) return false;
  try {
    const commandLine = (await readFile(`/proc/${state.pid}/cmdline`, 'utf8')).split('\0');
    return (state.command ?? 'local up').split(' ').every((word) => commandLine.includes(word));
  } catch {
    return true;
  }
}

/** The state directory: `$SHARDFLOW_STATE_DIR`, else `.shardflow` in the working directory. */
export function stateDirectory(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env[STATE_DIR_ENV];
  return resolve(configured !== undefined && configured !== '' ? configured : DEFAULT_STATE_DIR);
}

export function stateFilePath(directory: string = stateDirectory()): string {
  return join(directory, STATE_FILE);
}

/** Output of a detached `local up`. */
export function logFilePath(directory: string = stateDirectory()): string {
  return join(directory, LOG_FILE);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isServiceMap<T>(value: unknown, item: (v: unknown) => v is T): value is Record<LocalService, T> {
  return isRecord(value) && ['kinesis', 'dynamodb', 's3'].every((service) => item(value[service]));
}

const isPid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 1;
const isLoopbackUrl = (v: unknown): v is string =>
  typeof v === 'string' && /^http:\/\/127\.0\.0\.1:\d{1,5}$/.test(v);

/** Parses a state file's content; anything that does not look exactly right is `undefined` (hostile input). */
export function parseState(text: string): LocalCloudState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (
    isRecord(value) &&
    isPid(value.pid) &&
    isLoopbackUrl(value.endpoint) &&
    isServiceMap(value.endpoints, isLoopbackUrl) &&
    isServiceMap(value.pids, isPid) &&
    typeof value.startedAt === 'string' &&
    (value.command === undefined || (CLOUD_OWNERS as readonly unknown[]).includes(value.command)) &&
    (value.kinesis === undefined || value.kinesis === 'kinesis-mock' || value.kinesis === 'kinesalite')
  ) {
    return {
      pid: value.pid,
      endpoint: value.endpoint,
      endpoints: value.endpoints,
      pids: value.pids,
      startedAt: value.startedAt,
      ...(value.command === undefined ? {} : { command: value.command as CloudOwner }),
      ...(value.kinesis === undefined ? {} : { kinesis: value.kinesis }),
    };
  }
  return undefined;
}

/** Reads the state file; `undefined` when there is none. A corrupt file is reported, not ignored. */
export async function readState(path: string = stateFilePath()): Promise<LocalCloudState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = parseState(text);
  if (state === undefined) throw new Error(`${path} is not a valid local cloud state file; remove it`);
  return state;
}

/** Writes the state file atomically (write + rename), creating the directory. */
export async function writeState(state: LocalCloudState, path: string = stateFilePath()): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

export async function removeState(path: string = stateFilePath()): Promise<void> {
  await rm(path, { force: true });
}
