/** Errors of the state layer. Each subclass sets `name` and passes `cause` on. */
import type { ShardProgress, WindowStateItem } from '../types';

/** Base of all state-layer errors. */
export class StateError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StateError';
  }
}

/**
 * A conditional write lost: the stored item moved on (other version, fence already past, other status).
 * Carries the stored item (undefined when it does not exist) so the caller can re-merge without a read.
 */
export class StateConflictError<T extends WindowStateItem | ShardProgress = WindowStateItem> extends StateError {
  public readonly existing: T | undefined;

  public constructor(message: string, existing: T | undefined, options?: ErrorOptions) {
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
