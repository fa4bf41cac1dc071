/** Errors of the embedded local cloud. Each sets `name` and keeps the underlying error as `cause`. */
import { ShardflowError } from '../../functions/core/errors';

/** Base class: something went wrong starting, checking or stopping the local cloud. */
export class LocalCloudError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalCloudError';
  }
}

/** An emulator process could not be started, or exited before it was listening. */
export class EmulatorStartError extends LocalCloudError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmulatorStartError';
  }
}

/** An emulator was listening but did not answer a real API call before the deadline. */
export class EmulatorHealthCheckError extends LocalCloudError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmulatorHealthCheckError';
  }
}
