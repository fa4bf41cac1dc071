/**
 * Domain errors of the engine core. Every subclass sets `name` and passes `{ cause }` on, so callers can
 * branch on `instanceof` and logs keep the original stack.
 */

/**
 * The root of every error shardflow throws (engine, state, handlers, constructs, CLI, local cloud), so a
 * caller can tell shardflow's errors from others with one `instanceof`, and branch on `code`: the class name
 * as a constant (`PipelineDefinitionError` → `PIPELINE_DEFINITION`), stable across messages.
 */
export class ShardflowError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ShardflowError';
  }

  /** Machine-readable kind of error, derived from its class name. */
  public get code(): string {
    return this.name
      .replace(/Error$/, '')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toUpperCase();
  }
}

/** Base class of every error thrown by the engine core. */
export class EngineError extends ShardflowError {
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

/** An option or argument is outside what it accepts (a range, a size, a shape); the message names the value. */
export class InvalidOptionError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidOptionError';
  }
}
