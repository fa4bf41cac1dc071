/**
 * Resolves with the signal once Ctrl-C (SIGINT), SIGTERM or SIGHUP arrives. Call it before printing that
 * Ctrl-C stops the command: stderr and stdout to a pipe are written synchronously, so a parent that reads
 * the line can signal before a listener set after it, and the default action kills the process (exit code
 * null instead of 0; seen once in CI, `run … --keep`).
 */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.once(signal, () => resolve(signal));
  });
}
