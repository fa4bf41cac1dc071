import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EMULATOR_START_TIMEOUT_MS, EMULATOR_STOP_GRACE_MS } from './constants';
import { EmulatorStartError } from './errors';

/** The preload that pins servers to loopback, binds placeholder ports to free ports and exits with its parent. */
export const LOOPBACK_PRELOAD = join(__dirname, 'loopbackPreload.js');

/** Options for one emulator child process. */
export interface EmulatorProcessOptions {
  /** Short name used in log lines and errors, e.g. `kinesis`. */
  readonly name: string;
  /** Executable; `process.execPath` for Node.js emulators. */
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Added to the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Placeholder port numbers the child passes to `listen` (Node.js children started with
   * {@link LOOPBACK_PRELOAD}); each is bound to a free port and reported back.
   * @default [] (the child's port is chosen by the caller)
   */
  readonly ephemeralPorts?: readonly number[];
  /**
   * For children that announce their port on stdout (the JVM launcher): a pattern whose first group
   * is the port. The port is then available as `port(0)`.
   */
  readonly portFromOutput?: RegExp;
  /** Receives the child's output, one line at a time, prefixed with its name. */
  readonly log?: (line: string) => void;
  /** @default EMULATOR_START_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/** Message the loopback preload sends when a server is listening. */
interface ListeningMessage {
  readonly type: 'shardflow:listening';
  readonly requested: number;
  readonly port: number;
}

function isListeningMessage(message: unknown): message is ListeningMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'shardflow:listening' &&
    typeof (message as { port?: unknown }).port === 'number'
  );
}

const OUTPUT_TAIL_LINES = 20;

/** How an emulator process ended. */
export interface EmulatorExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Process groups still running, killed synchronously if this process exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  });
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Whether any process of the group is still alive (signal 0 probes without signalling). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One emulator running as a child process that leads its own process group, so that stopping it
 * also stops anything it started (the JVM under a wrapper, worker processes).
 */
export class EmulatorProcess {
  /** Process id, which is also the process group id. */
  public readonly pid: number;
  public readonly name: string;
  /** Resolves when the process exits, for whatever reason, with its exit code or signal. */
  public readonly exited: Promise<EmulatorExitStatus>;
  private readonly child: ChildProcess;
  private readonly ports: ReadonlyMap<number, number>;
  private stopping: Promise<void> | undefined;

  private constructor(
    name: string,
    child: ChildProcess,
    ports: ReadonlyMap<number, number>,
    exited: Promise<EmulatorExitStatus>,
  ) {
    this.name = name;
    this.child = child;
    this.pid = child.pid as number;
    this.ports = ports;
    this.exited = exited;
  }

  /**
   * Spawns the emulator and resolves once every placeholder port is bound.
   *
   * @throws EmulatorStartError when the process cannot be spawned, exits early or is too slow.
   */
  public static async start(options: EmulatorProcessOptions): Promise<EmulatorProcess> {
    const placeholders = options.ephemeralPorts ?? [];
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: {
        ...process.env,
        ...options.env,
        SHARDFLOW_EPHEMERAL_PORTS: placeholders.join(','),
      },
      detached: true,
      // stdin stays open and unused: a child can treat its end of file as "the parent is gone".
      stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
    });
    const tail: string[] = [];
    const ports = new Map<number, number>();
    const onLine = (line: string): void => {
      const announced = options.portFromOutput?.exec(line)?.[1];
      if (announced !== undefined && !ports.has(0)) {
        ports.set(0, Number(announced));
        child.emit('shardflow:port');
      }
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
      options.log?.(`[${options.name}] ${line}`);
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);

    const exited = new Promise<EmulatorExitStatus>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    if (child.pid !== undefined) {
      liveGroups.add(child.pid);
      installExitHook();
      const pid = child.pid;
      void exited.then(() => {
        // The leader is gone; anything it left in its group goes too.
        signalGroup(pid, 'SIGKILL');
        liveGroups.delete(pid);
      });
    }

    const timeoutMs = options.timeoutMs ?? EMULATOR_START_TIMEOUT_MS;
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (message: string, cause?: unknown): void => {
          cleanup();
          const output = tail.length > 0 ? `; last output:\n${tail.join('\n')}` : '';
          reject(new EmulatorStartError(`${options.name}: ${message}${output}`, { cause }));
        };
        const check = (): void => {
          if (
            placeholders.every((p) => ports.has(p)) &&
            (options.portFromOutput === undefined || ports.has(0))
          ) {
            cleanup();
            resolve();
          }
        };
        const onMessage = (message: unknown): void => {
          if (isListeningMessage(message) && placeholders.includes(message.requested)) {
            ports.set(message.requested, message.port);
            check();
          }
        };
        const onError = (error: Error): void => fail(`could not start ${options.command}`, error);
        const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
          fail(`exited before it was listening (code ${code ?? 'none'}, signal ${signal ?? 'none'})`);
        const timer = setTimeout(() => fail(`not listening after ${timeoutMs} ms`), timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('error', onError);
          child.off('exit', onExit);
          child.off('shardflow:port', check);
        };
        child.on('message', onMessage);
        child.on('shardflow:port', check);
        child.once('error', onError);
        child.once('exit', onExit);
        check();
      });
    } catch (error) {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      throw error;
    }
    return new EmulatorProcess(options.name, child, ports, exited);
  }

  /** The free port bound in place of a placeholder passed in `ephemeralPorts`. */
  public port(placeholder: number): number {
    const port = this.ports.get(placeholder);
    if (port === undefined)
      throw new EmulatorStartError(`${this.name}: no port was bound for placeholder ${placeholder}`);
    return port;
  }

  /** Whether the process is still running. */
  public get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM to the whole group, SIGKILL after a grace period; resolves once the leader has exited. */
  public stop(graceMs: number = EMULATOR_STOP_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      if (this.running) {
        signalGroup(this.pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          this.exited.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), graceMs);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) signalGroup(this.pid, 'SIGKILL');
      }
      await this.exited;
      signalGroup(this.pid, 'SIGKILL');
      liveGroups.delete(this.pid);
    })();
    return this.stopping;
  }
}
