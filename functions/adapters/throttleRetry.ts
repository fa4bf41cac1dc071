/**
 * How the DynamoDB state store retries a call DynamoDB throttled: up to `maxAttempts` attempts, waiting a full
 * jitter between them (uniform in [0, min(cap, base · 2^attempt))). Only throttling is retried here; every
 * other error goes to the caller at once (conflicts are the commit protocol's business).
 */
import { InvalidOptionError, ShardflowError } from '../core/errors';

/** Errors DynamoDB uses to say "slow down". */
const THROTTLING: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
]);

/** Cancellation reasons of a transaction that are worth retrying as they are. */
const RETRYABLE_CANCELLATION_REASONS: ReadonlySet<string> = new Set([
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** Settings of a {@link ThrottleRetry}. */
export interface ThrottleRetryOptions {
  /**
   * Attempts of a throttled call (1–20).
   * @default 6
   */
  readonly maxAttempts?: number;
  /**
   * Base and cap of the full-jitter backoff in milliseconds.
   * @default { baseMs: 25, capMs: 2000 }
   */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** Injected for tests: sleep and randomness of the backoff. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** What a {@link ThrottleRetry} counts: every request sent, and every throttled one it retried. */
export interface RequestCounts {
  requests: number;
  throttles: number;
}

/** A throttled transaction (one of its cancellation reasons is throttling), retried like any throttled call. */
export class TransactionThrottled extends ShardflowError {
  public constructor(cause: unknown) {
    super('Transaction throttled', { cause });
    this.name = 'ThrottlingException';
  }
}

/** True when a transaction was cancelled for a reason worth retrying as it is (throttling). */
export function throttledCancellation(reasons: readonly { readonly Code?: string }[]): boolean {
  return reasons.some(
    (reason) => reason.Code !== undefined && RETRYABLE_CANCELLATION_REASONS.has(reason.Code),
  );
}

export class ThrottleRetry {
  readonly #maxAttempts: number;
  readonly #backoff: { readonly baseMs: number; readonly capMs: number };
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  public constructor(options: ThrottleRetryOptions = {}) {
    this.#maxAttempts = options.maxAttempts ?? 6;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1 || this.#maxAttempts > 20) {
      throw new InvalidOptionError(
        `maxAttempts must be an integer between 1 and 20 inclusive (given ${this.#maxAttempts})`,
      );
    }
    this.#backoff = options.backoff ?? { baseMs: 25, capMs: 2_000 };
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
  }

  /** Sends one call, counting it in `counts`, and retries throttling with full jitter up to `maxAttempts`. */
  public async send<R>(call: () => Promise<R>, counts: RequestCounts): Promise<R> {
    for (let attempt = 1; ; attempt += 1) {
      counts.requests += 1;
      try {
        return await call();
      } catch (error) {
        const name = (error as { name?: unknown }).name;
        if (typeof name !== 'string' || !THROTTLING.has(name) || attempt >= this.#maxAttempts) throw error;
        counts.throttles += 1;
        await this.#sleep(this.#delay(attempt));
      }
    }
  }

  /** Full jitter: uniform in [0, min(cap, base · 2^attempt)). */
  #delay(attempt: number): number {
    return Math.floor(this.#random() * Math.min(this.#backoff.capMs, this.#backoff.baseMs * 2 ** attempt));
  }
}
