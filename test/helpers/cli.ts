/**
 * Runs the `shardflow` CLI the way a user does (`npx shardflow`: node on the package's bin, a separate
 * process), for tests that check its output and exit code.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '../..');
/** The node running the tests: the bin's `#!/usr/bin/env node`. */
export const NODE = process.execPath;
/** The file package.json's `bin` names: what `npx shardflow` runs. */
export const CLI_BIN = join(ROOT, 'localstack/cli/bin.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `shardflow <args>` from the project root with `env`; resolves when it exits. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI_BIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Loopback ports `unusedPort` picks from: below the kernel's ephemeral range (32768+ here, and on Linux by
 * default), where servers that tests start on port 0 never land, so only another explicit choice can take
 * the port between this pick and the CLI binding it.
 */
const EXPLICIT_PORTS = { from: 20_000, to: 32_000 };

/** A loopback port outside the ephemeral range that was free a moment ago (bound, then released). */
export async function unusedPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = EXPLICIT_PORTS.from + Math.floor(Math.random() * (EXPLICIT_PORTS.to - EXPLICIT_PORTS.from));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port in ${EXPLICIT_PORTS.from}..${EXPLICIT_PORTS.to} after 50 tries`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * An endpoint where no server listens, for the CLI's "local cloud not running" errors. Not a port
 * that was merely free a moment ago: another test can start a server there later (CI saw an S3
 * emulator's XML answer on a just-released ephemeral port). Servers in tests bind port 0 (the
 * ephemeral range) or an `unusedPort` (20000..32000), and only root may bind below 1024; so a port
 * below 1024 that refuses a connection now stays closed for the test. Checked, not assumed.
 */
export async function closedEndpoint(): Promise<string> {
  for (const port of [1, 9, 47, 79, 113]) {
    if (await refuses(port)) return `http://127.0.0.1:${port}`;
  }
  throw new Error('no closed loopback port below 1024 (something listens on 1, 9, 47, 79 and 113)');
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** Resolves with the output of `on` (stdout) once `marker` appears on it; rejects if the process exits first or time runs out. */
export function waitForOutput(
  child: ChildProcessWithoutNullStreams,
  marker: string,
  timeoutMs: number,
  on: 'stdout' | 'stderr' = 'stdout',
): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const [watched, other] = on === 'stdout' ? [child.stdout, child.stderr] : [child.stderr, child.stdout];
    const timer = setTimeout(
      () => reject(new Error(`no "${marker}" after ${timeoutMs} ms: ${out}${err}`)),
      timeoutMs,
    );
    watched.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(marker)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    other.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before "${marker}": ${out}${err}`));
    });
  });
}

/**
 * Runs the CLI with `args` (a command with `--keep`) until it prints "Press Ctrl-C to stop." on stderr, runs
 * `body` with what it printed on stderr and on stdout while it stays up, then sends Ctrl-C and expects exit code 0. Kills it if
 * anything fails.
 */
export async function whileKept(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  body: (printed: string, stdout: string) => Promise<void>,
): Promise<void> {
  const kept = spawn(NODE, [CLI_BIN, ...args], { cwd: ROOT, env });
  let stdout = '';
  kept.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  try {
    await body(await waitForOutput(kept, 'Press Ctrl-C to stop.', 240_000, 'stderr'), stdout);
    const exited = new Promise<number | null>((resolve) => kept.once('exit', (code) => resolve(code)));
    kept.kill('SIGINT');
    expect(await exited).toBe(0);
  } finally {
    if (kept.exitCode === null) kept.kill('SIGKILL');
  }
}
