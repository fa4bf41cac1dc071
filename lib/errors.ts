/**
 * Errors raised while building the shardflow CDK app. One tree for `lib/`: every subclass sets `name`
 * and passes `cause` on, so callers can tell a bad prop from a CDK failure.
 */
import { ShardflowError } from '../functions/core/errors';

/** Base class of every error thrown by the shardflow constructs and stacks. */
export class ShardflowCdkError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ShardflowCdkError';
  }
}

/**
 * Props given to a shardflow construct or stack are invalid. Carries every problem found in one
 * validation pass, each naming the value that was given.
 */
export class ValidationError extends ShardflowCdkError {
  /** Each problem on its own, in the order found. */
  public readonly problems: readonly string[];

  public constructor(subject: string, problems: readonly string[], options?: ErrorOptions) {
    super(`Invalid ${subject} props:\n- ${problems.join('\n- ')}`, options);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}
