import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { EMULATOR_START_TIMEOUT_MS, LOOPBACK_HOST } from './constants';
import { EmulatorProcess } from './EmulatorProcess';
import { EmulatorStartError } from './errors';
import { healthyDynamoDbEmulator } from './healthCheck';
import type { EmulatorOptions, RunningEmulator } from './types';
import { resolveLocalDependency } from './optionalDependency';

const run = promisify(execFile);

const LAUNCHER_CLASS = 'DynamoDbLocalLauncher';
const LAUNCHER_SOURCE = join(__dirname, `${LAUNCHER_CLASS}.java`);

/**
 * JVM flags for a short-lived test server: C1 only and the serial collector start measurably faster
 * on a small machine, and a few hundred MB of heap is plenty for test tables.
 */
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xms64m', '-Xmx512m'] as const;

/** Directory of the DynamoDB Local jar shipped inside npm `amplify-dynamodb-simulator`. */
export function dynamoDbLocalDirectory(): string {
  return join(dirname(resolveLocalDependency('amplify-dynamodb-simulator/package.json')), 'emulator');
}

function classPath(emulatorDir: string, extra?: string): string {
  const entries = [join(emulatorDir, 'DynamoDBLocal.jar'), join(emulatorDir, 'DynamoDBLocal_lib', '*')];
  return (extra !== undefined ? [extra, ...entries] : entries).join(':');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The launcher compiled once into `node_modules/.cache` (keyed by its source), so each start skips
 * the ~1 s in-memory compilation of Java's source-file mode. Falls back to source-file mode when
 * no `javac` is installed (a JRE only).
 */
async function launcherArgs(emulatorDir: string): Promise<string[]> {
  const source = await readFile(LAUNCHER_SOURCE);
  const digest = createHash('sha256').update(source).update(emulatorDir).digest('hex').slice(0, 16);
  const cacheDir = join(
    dirname(resolveLocalDependency('amplify-dynamodb-simulator/package.json')),
    '..',
    '.cache',
    'shardflow',
    digest,
  );
  if (!(await exists(join(cacheDir, `${LAUNCHER_CLASS}.class`)))) {
    const staging = `${cacheDir}.${process.pid}`;
    try {
      await mkdir(staging, { recursive: true });
      await run('javac', ['-cp', classPath(emulatorDir), '-d', staging, LAUNCHER_SOURCE]);
      // Never replace an existing cache: another process may be starting a JVM from it right now.
      // If one appeared meanwhile, rename fails and the catch below uses it.
      await rename(staging, cacheDir);
    } catch {
      await rm(staging, { recursive: true, force: true });
      if (!(await exists(join(cacheDir, `${LAUNCHER_CLASS}.class`)))) {
        return ['-cp', classPath(emulatorDir), LAUNCHER_SOURCE];
      }
    }
  }
  return ['-cp', classPath(emulatorDir, cacheDir), LAUNCHER_CLASS];
}

/**
 * Starts DynamoDB Local (in memory, telemetry off) through {@link LAUNCHER_SOURCE}, which binds it to
 * 127.0.0.1 on a free port and makes it exit with its parent. Needs Java 11+ on the PATH.
 */
export async function startDynamoDbLocalEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? EMULATOR_START_TIMEOUT_MS;
  const emulatorDir = dynamoDbLocalDirectory();
  let args: string[];
  try {
    args = await launcherArgs(emulatorDir);
  } catch (error) {
    throw new EmulatorStartError('dynamodb: cannot prepare the DynamoDB Local launcher', { cause: error });
  }
  const child = await EmulatorProcess.start({
    name: 'dynamodb',
    command: 'java',
    args: [
      ...JVM_FLAGS,
      `-Djava.library.path=${join(emulatorDir, 'DynamoDBLocal_lib')}`,
      ...args,
      '-inMemory',
      '-disableTelemetry',
    ],
    cwd: emulatorDir,
    portFromOutput: /^shardflow:listening (\d+)$/,
    timeoutMs,
    ...(options.log ? { log: options.log } : {}),
  }).catch((error: unknown) => {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') {
      throw new EmulatorStartError(
        'dynamodb: DynamoDB Local needs Java 11 or later on the PATH (or set SHARDFLOW_DYNAMODB_EMULATOR=dynalite)',
        { cause: error },
      );
    }
    throw error;
  });
  const endpoint = `http://${LOOPBACK_HOST}:${child.port(0)}`;
  return healthyDynamoDbEmulator(
    { endpoint, pid: child.pid, startedAt: started, stop: () => child.stop(), exited: child.exited },
    timeoutMs,
  );
}
