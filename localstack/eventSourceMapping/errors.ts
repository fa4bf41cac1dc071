/** Errors of the local event-source-mapping runtime. */
import { ShardflowError } from '../../functions/core/errors';

/** Base of every error this runtime throws. */
export class EventSourceMappingError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventSourceMappingError';
  }
}

/** A mapping's settings are out of Lambda's ranges; the message lists every problem with the given value. */
export class MappingValidationError extends EventSourceMappingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MappingValidationError';
  }
}

/** A filter pattern is not valid Lambda event-filtering syntax. */
export class FilterPatternError extends EventSourceMappingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FilterPatternError';
  }
}

/** `idle()` did not observe a quiet runtime before its deadline. */
export class IdleTimeoutError extends EventSourceMappingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IdleTimeoutError';
  }
}

/** A mapping names a function that was not registered. */
export class UnknownFunctionError extends EventSourceMappingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnknownFunctionError';
  }
}
