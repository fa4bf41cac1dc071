/** Errors of the start orchestration, the input readers and the producer. One-line messages for the CLI. */
import { ShardflowError } from '../../functions/core/errors';

/** Base class of the errors in this area. */
export class ShardflowCliError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ShardflowCliError';
  }
}

/** An input file is missing, unreadable, of an unknown format, or does not parse. */
export class InputError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** Records could not be put on the stream after every retry. */
export class SendError extends ShardflowCliError {
  public constructor(
    message: string,
    /** Records that were never accepted by Kinesis. */
    public readonly failed: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SendError';
  }
}

/** The local cloud or the deployment a command needs is not there. */
export class NotRunningError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotRunningError';
  }
}

/** Waiting for the pipeline to finish took longer than the deadline. */
export class DeadlineError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeadlineError';
  }
}
