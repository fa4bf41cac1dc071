import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ownCpuMs, processGroupCpuMs } from '../../bench/processCpu';

const busy = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* spin */
  }
};

describe('processCpu', () => {
  it('when this process spins for 300 ms, its CPU time grows (by its share of a loaded machine at least)', () => {
    const before = ownCpuMs();
    busy(300);
    expect(ownCpuMs() - before).toBeGreaterThanOrEqual(30);
  });

  it('without /proc it reports nothing', () => {
    expect(processGroupCpuMs([process.pid]) === undefined).toBe(!existsSync('/proc'));
  });

  it('when a process group spins, its CPU time is counted for that group and not for another (Linux)', async () => {
    // A child leading its own process group that spins until it has used 500 ms of CPU by its own count.
    const child = spawn(
      process.execPath,
      [
        '-e',
        'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 500000); process.stdout.write("done"); setTimeout(() => {}, 10000);',
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const pid = child.pid as number;
      const cpu = processGroupCpuMs([pid, 2 ** 22 + 7]);
      expect(cpu?.get(pid)).toBeGreaterThanOrEqual(400);
      expect(cpu?.get(2 ** 22 + 7)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 20_000);
});
