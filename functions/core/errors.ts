/**
 * Domain errors of the engine core. Every subclass sets `name` and passes `{ cause }` on, so callers can
 * branch on `instanceof` and logs keep the original stack.
 */

/** Base class of every error thrown by the engine core. */
export class EngineError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EngineError';
  }
}

/**
 * A pipeline definition is invalid (thrown at definition time, i.e. when the module is loaded or the
 * CDK app synthesises). The message names the bad value.
 */
export class PipelineDefinitionError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineDefinitionError';
  }
}

/** A duration string or number is not valid (e.g. `'10 minutes'`, `-5`). */
export class InvalidDurationError extends PipelineDefinitionError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidDurationError';
  }
}

/** A Kinesis sequence number is not a decimal string of at most {@link SEQUENCE_NUMBER_WIDTH} digits. */
export class InvalidSequenceNumberError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidSequenceNumberError';
  }
}

/** Stored aggregate state could not be deserialised (corrupted item or a changed pipeline definition). */
export class StateDeserializationError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateDeserializationError';
  }
}
