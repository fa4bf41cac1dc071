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

/** Whether a conditional write landed: false when another writer got to the item first (the next read sees its state). */
export async function landed(write: Promise<void>): Promise<boolean> {
  return write.then(
    () => true,
    (error: unknown) => {
      if (error instanceof StateConflictError) return false;
      throw error;
    },
  );
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
 * Stored state was written under a definition whose state shape the running one cannot read (an
 * incompatible change, an unknown fingerprint, or state from before fingerprints were stored): a close pass
 * refuses to merge it. The shard's records are still applied; the windows holding such state wait until the
 * definition that wrote it is deployed again (they close under it) or they are discarded
 * (`shardflow deploy --discard-open-windows`).
 */
export class IncompatibleStateError extends StateError {
  public readonly shardId: string;
  public readonly commit: number;
  /** The fingerprint the segment was written under (undefined: none stored). */
  public readonly storedFingerprint: string | undefined;
  public readonly expectedFingerprint: string;

  public constructor(
    message: string,
    details: {
      readonly shardId: string;
      readonly commit: number;
      readonly storedFingerprint: string | undefined;
      readonly expectedFingerprint: string;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'IncompatibleStateError';
    this.shardId = details.shardId;
    this.commit = details.commit;
    this.storedFingerprint = details.storedFingerprint;
    this.expectedFingerprint = details.expectedFingerprint;
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

/** An event names the tick's drain action (`drain.ts`) but is not a well-formed drain request. */
export class InvalidDrainRequestError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidDrainRequestError';
  }
}

/**
 * The downstream stream refused some of a committed batch's published records after every retry (throttling,
 * an outage): the batch fails, and its redelivery publishes them again (`streamPublisher.ts`).
 */
export class PublishError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublishError';
  }
}
