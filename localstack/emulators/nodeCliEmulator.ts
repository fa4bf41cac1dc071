import { EMULATOR_START_TIMEOUT_MS, LOOPBACK_HOST } from './constants';
import { EmulatorProcess, LOOPBACK_PRELOAD } from './EmulatorProcess';
import type { StartedEmulator } from './healthCheck';
import type { EmulatorOptions, RunningEmulator } from './types';

/** An emulator that is a Node.js command-line script of an npm package (dynalite, kinesalite). */
export interface NodeCliEmulatorSpec {
  /** Short name for log lines and errors. */
  readonly name: string;
  /** Absolute path of the script (`require.resolve('<package>/cli.js')`). */
  readonly script: string;
  /** Arguments after the script; the port is written as `portPlaceholder`. */
  readonly args: readonly string[];
  readonly portPlaceholder: number;
  /** Waits until the started emulator answers (see healthCheck.ts). */
  readonly healthy: (
    emulator: Omit<StartedEmulator, 'service'>,
    timeoutMs: number,
  ) => Promise<RunningEmulator>;
}

/** Starts `spec.script` with this Node.js on a free loopback port (bound to loopback by the preload) and waits until it is healthy. */
export async function startNodeCliEmulator(
  spec: NodeCliEmulatorSpec,
  options: EmulatorOptions = {},
): Promise<RunningEmulator> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? EMULATOR_START_TIMEOUT_MS;
  const child = await EmulatorProcess.start({
    name: spec.name,
    command: process.execPath,
    args: ['--require', LOOPBACK_PRELOAD, spec.script, ...spec.args],
    ephemeralPorts: [spec.portPlaceholder],
    timeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const endpoint = `http://${LOOPBACK_HOST}:${child.port(spec.portPlaceholder)}`;
  return spec.healthy(
    { endpoint, pid: child.pid, startedAt: started, stop: () => child.stop(), exited: child.exited },
    timeoutMs,
  );
}
