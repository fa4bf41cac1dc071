/** Errors of the state layer. Each subclass sets `name` and passes `cause` on. */
import type { ShardProgress } from './types';
import { ShardflowError } from '../errors';

/** Base of all state-layer errors. */
export class StateError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateError';
  }
}

/**
 * A conditional write lost: the stored progress moved on (another version, or the pipeline's closed
 * watermark for a shard's first commit). Carries the stored progress item when the backend returned it.
 */
export class StateConflictError extends StateError {
  public readonly existing: ShardProgress | undefined;

  public constructor(message: string, existing: ShardProgress | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateConflictError';
    this.existing = existing;
  }
}

/** Retries of a conditional write were exhausted under contention. */
export class StateContentionError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateContentionError';
  }
}

/**
 * What a write would store does not fit one of DynamoDB's limits (named in the message, with the size);
 * checked before the call, so nothing was sent.
 */
export class StateLimitError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateLimitError';
  }
}

/**
 * A segment of a shard's commit log is gone (DynamoDB TTL: older than the state's retention), so the log
 * cannot say which records of a range that old some commit applied.
 */
export class SegmentExpiredError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SegmentExpiredError';
  }
}

/** A stored item did not have the expected shape (treated as hostile input, never trusted blindly). */
export class StateItemInvalidError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateItemInvalidError';
  }
}

/**
 * Applying a batch failed on infrastructure; `applied` tells whether every record's effects were in place
 * before the failure (then only emission is left for a later invocation or the tick).
 */
export class BatchApplyError extends StateError {
  public readonly recordsApplied: boolean;

  public constructor(message: string, recordsApplied: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BatchApplyError';
    this.recordsApplied = recordsApplied;
  }
}
