import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../functions/adapters/aws';
import { EMULATOR_START_TIMEOUT_MS, LOOPBACK_HOST } from './constants';
import { EmulatorProcess, LOOPBACK_PRELOAD } from './EmulatorProcess';
import { healthyEmulator, probeClientConfig } from './healthCheck';
import type { EmulatorOptions, RunningEmulator } from './types';
import { resolveLocalDependency } from './optionalDependency';

const PORT_PLACEHOLDER = 45683;

/**
 * Starts s3rver on a free loopback port with its data in a fresh temporary directory, removed on stop.
 * Like LocalStack it accepts any access key (see `s3rverMain.js`).
 */
export async function startS3Emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? EMULATOR_START_TIMEOUT_MS;
  const directory = await mkdtemp(join(tmpdir(), 'shardflow-s3-'));
  // The child process loads s3rver: check here that it is installed, for a clear error.
  resolveLocalDependency('s3rver/package.json');
  const script = join(__dirname, 's3rverMain.js');
  let child: EmulatorProcess;
  try {
    child = await EmulatorProcess.start({
      name: 's3',
      command: process.execPath,
      // s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node.js ≥ 17) only
      // offers through its legacy provider: without it every truncated listing (more than MaxKeys, by
      // default 1,000, keys under the prefix) fails with InternalError ("digital envelope routines::unsupported").
      args: [
        '--openssl-legacy-provider',
        '--require',
        LOOPBACK_PRELOAD,
        script,
        directory,
        String(PORT_PLACEHOLDER),
      ],
      ephemeralPorts: [PORT_PLACEHOLDER],
      timeoutMs,
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const stop = async (): Promise<void> => {
    await child.stop();
    await rm(directory, { recursive: true, force: true });
  };
  const endpoint = `http://${LOOPBACK_HOST}:${child.port(PORT_PLACEHOLDER)}`;
  const client = s3Client(probeClientConfig(endpoint));
  return healthyEmulator(
    { service: 's3', endpoint, pid: child.pid, startedAt: started, stop, exited: child.exited },
    client,
    () => client.send(new ListBucketsCommand({})),
    timeoutMs,
  );
}
