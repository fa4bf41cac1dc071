/**
 * How every command written here reports failure: one line on stderr, exit code 1, never a stack
 * trace (set `SHARDFLOW_DEBUG=1` to see the stack). Shared by the command files of this folder.
 */
import { InvalidArgumentError } from 'commander';
import { ShardflowError } from '../../../functions/core/errors';

/** The one line a user sees for an error. */
export function errorLine(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const message = String((error as { message: unknown }).message);
    const firstLine =
      message
        .split('\n')
        .find((l) => l.trim() !== '')
        ?.trim() ?? '';
    const name = 'name' in error ? String((error as { name: unknown }).name) : 'Error';
    // Our own domain errors speak for themselves; foreign errors keep their name for diagnosis.
    const ours = error instanceof ShardflowError || name === 'Error' || name === 'RangeError';
    return ours ? firstLine : `${name}: ${firstLine}`;
  }
  return String(error);
}

/** An error already reduced to the one line the user sees; `main` prints it and exits 1. */
export class CommandFailedError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CommandFailedError';
  }
}

/**
 * Wraps a commander action so that any error reaches `main` as one line (foreign errors keep their
 * name, e.g. `ResourceNotFoundException: …`). `SHARDFLOW_DEBUG=1` prints the stack as well.
 *
 * @example
 * program.command('query').action(cliAction(async (sql: string) => { ... }));
 */
export function cliAction<A extends unknown[]>(
  action: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    // Node 20 is supported (package.json engines); the SDK's "use Node 22" notice is noise here.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    try {
      await action(...args);
    } catch (error) {
      if (process.env.SHARDFLOW_DEBUG === '1' && error instanceof Error)
        process.stderr.write(`${error.stack ?? ''}\n`);
      throw new CommandFailedError(errorLine(error), { cause: error });
    }
  };
}

/**
 * Parses a positive number option, naming the option in the error; `range` bounds it further (a value a
 * timer turns into milliseconds must stay under `setTimeout`'s 24.8 days, or node fires it at once).
 */
export function positiveNumber(
  name: string,
  range: { readonly min?: number; readonly max?: number } = {},
): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number (given ${value}).`);
    if ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max))
      throw new InvalidArgumentError(
        `${name} must be ${range.min === undefined ? `at most ${range.max}` : range.max === undefined ? `at least ${range.min}` : `from ${range.min} to ${range.max}`} (given ${value}).`,
      );
    return n;
  };
}

/** Parses a positive integer option, naming the option in the error. */
export function positiveInteger(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive integer (given ${value}).`);
    return n;
  };
}
