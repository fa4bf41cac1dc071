import { spawn } from 'node:child_process';
import {
  EmulatorProcess,
  groupAlive,
  LOOPBACK_PRELOAD,
} from '../../../../localstack/emulators/EmulatorProcess';
import { EmulatorStartError } from '../../../../localstack/emulators/errors';
import { eventually as eventuallyTrue, processAlive } from '../../../helpers/processes';

const eventually = (condition: () => boolean): Promise<boolean> => eventuallyTrue(condition, 10_000, 25);

/** A Node.js "emulator": listens on the placeholder port (asking for all interfaces) and starts a grandchild. */
const SERVER = `
  const http = require('node:http');
  const { spawn } = require('node:child_process');
  const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log('grandchild ' + grandchild.pid);
  http.createServer((req, res) => res.end(JSON.stringify(req.socket.localAddress))).listen(45999, '0.0.0.0');
`;

/** Starts {@link SERVER} through the loopback preload, its output lines going to `lines`. */
const startFakeServer = (lines: string[]): Promise<EmulatorProcess> =>
  EmulatorProcess.start({
    name: 'fake',
    command: process.execPath,
    args: ['--require', LOOPBACK_PRELOAD, '-e', SERVER],
    ephemeralPorts: [45999],
    log: (line) => lines.push(line),
  });

// Process start-up on a loaded 2-core machine can take seconds.
jest.setTimeout(30_000);

describe('EmulatorProcess', () => {
  it('when the child listens on a placeholder port, it binds a free loopback port instead and reports it', async () => {
    const lines: string[] = [];
    const emulator = await startFakeServer(lines);
    try {
      const port = emulator.port(45999);
      expect(port).not.toBe(45999);
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(await response.json()).toBe('127.0.0.1');
    } finally {
      await emulator.stop();
    }
  });

  it('when stopped, it ends the whole process group including grandchildren', async () => {
    const lines: string[] = [];
    const emulator = await startFakeServer(lines);
    expect(await eventually(() => lines.some((l) => l.startsWith('[fake] grandchild ')))).toBe(true);
    const grandchild = Number(lines.find((l) => l.startsWith('[fake] grandchild '))?.split(' ')[2]);
    expect(processAlive(grandchild)).toBe(true);
    await emulator.stop();
    expect(emulator.running).toBe(false);
    expect(await eventually(() => !processAlive(grandchild))).toBe(true);
    expect(groupAlive(emulator.pid)).toBe(false);
  });

  it('when the child announces its port on stdout, it reads it from there', async () => {
    const emulator = await EmulatorProcess.start({
      name: 'jvm-like',
      command: process.execPath,
      args: [
        '-e',
        `const s = require('node:http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => console.log('shardflow:listening ' + s.address().port));`,
      ],
      portFromOutput: /^shardflow:listening (\d+)$/,
    });
    try {
      expect(emulator.port(0)).toBeGreaterThan(0);
      expect(
        await (
          await fetch(`http://127.0.0.1:${emulator.port(0)}/`, { headers: { connection: 'close' } })
        ).text(),
      ).toBe('ok');
    } finally {
      await emulator.stop();
    }
  });

  it('when the child exits before listening, it fails with its last output', async () => {
    await expect(
      EmulatorProcess.start({
        name: 'broken',
        command: process.execPath,
        args: ['-e', 'console.error("no java here"); process.exit(3)'],
        ephemeralPorts: [45999],
      }),
    ).rejects.toThrow(
      /broken: exited before it was listening \(code 3, signal none\); last output:\nno java here/,
    );
  });

  it('when the child never listens, it gives up at the deadline and leaves no process behind', async () => {
    const error: unknown = await EmulatorProcess.start({
      name: 'silent',
      command: process.execPath,
      args: ['-e', 'console.log("pid " + process.pid); setInterval(() => {}, 1000)'],
      ephemeralPorts: [45999],
      // Long enough for a cold Node.js start on a loaded machine to print its pid first.
      timeoutMs: 3_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmulatorStartError);
    const pid = Number(/pid (\d+)/.exec((error as Error).message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(await eventually(() => !processAlive(pid))).toBe(true);
  });

  it('when the command does not exist, it fails with EmulatorStartError', async () => {
    await expect(
      EmulatorProcess.start({ name: 'missing', command: '/nonexistent/java', args: [], ephemeralPorts: [1] }),
    ).rejects.toBeInstanceOf(EmulatorStartError);
  });

  it('when the parent is killed with SIGKILL, the preloaded child exits by itself', async () => {
    // The parent spawns a detached, preloaded child the way EmulatorProcess does, prints its pid, and waits.
    const parentScript = `
      const { spawn } = require('node:child_process');
      const child = spawn(process.execPath, ['--require', ${JSON.stringify(LOOPBACK_PRELOAD)}, '-e', 'setInterval(() => {}, 1000)'],
        { detached: true, stdio: ['pipe', 'ignore', 'ignore', 'ipc'] });
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['ignore', 'pipe', 'ignore'] });
    const childPid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim()))),
    );
    expect(processAlive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await eventually(() => !processAlive(childPid))).toBe(true);
  });
});
