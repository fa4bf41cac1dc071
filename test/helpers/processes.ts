import { setTimeout as sleep } from 'node:timers/promises';

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls `condition` every `pollMs` until it holds or `timeoutMs` passes.
 *
 * @returns whether it held (asked once more at the deadline).
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  pollMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await sleep(pollMs);
  }
  return condition();
}
