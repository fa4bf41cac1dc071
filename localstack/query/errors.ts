/** Errors of the query tool. Each carries a one-line message fit for the CLI. */
import { ShardflowError } from '../../functions/core/errors';

/** Base class of every query error. */
export class QueryError extends ShardflowError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueryError';
  }
}

/** The SQL did not parse, bind or run; the message is the engine's first line. */
export class SqlError extends QueryError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SqlError';
  }
}

/** An Athena query ended FAILED or CANCELLED, or did not finish before the deadline. */
export class AthenaQueryError extends QueryError {
  public constructor(
    message: string,
    /** The Athena query execution id, when one was started. */
    public readonly queryExecutionId?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AthenaQueryError';
  }
}
