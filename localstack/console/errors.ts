/** Errors of the local console. One-line messages that name the next step. */
import { ShardflowCliError } from '../start/errors';

/** Base class of the console's errors. */
export class ConsoleError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConsoleError';
  }
}

/** The console's port is taken by another process. */
export class ConsolePortInUseError extends ConsoleError {
  public constructor(
    public readonly port: number,
    options?: ErrorOptions,
  ) {
    super(
      `Console port ${port} is already in use: pass --port 0 for a free port (or stop what holds it)`,
      options,
    );
    this.name = 'ConsolePortInUseError';
  }
}
