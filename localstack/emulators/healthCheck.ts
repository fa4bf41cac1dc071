import { setTimeout as sleep } from 'node:timers/promises';
import { EmulatorHealthCheckError } from './errors';

const POLL_INTERVAL_MS = 50;

/**
 * Repeats a real API call until it succeeds or the deadline passes. Emulators often accept
 * connections before they can serve requests (kinesis-mock's JS runtime, the JVM), so listening
 * alone is not healthy.
 *
 * @throws EmulatorHealthCheckError carrying the last failure as `cause`.
 */
export async function waitUntilHealthy(
  name: string,
  check: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const reason =
        lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError);
      throw new EmulatorHealthCheckError(`${name} did not answer within ${timeoutMs} ms (${reason})`, {
        cause: lastError,
      });
    }
    await sleep(POLL_INTERVAL_MS);
  }
}
