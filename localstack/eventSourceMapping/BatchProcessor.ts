import type { KinesisStreamEvent } from 'aws-lambda';
import { ESM_LIMITS } from './constants';
import type { EventContext } from './kinesisEvent';
import { buildStreamEvent, buildStreamFailureRecord } from './streamEvent';
import { interpretBatchResponse } from './partialBatchResponse';
import {
  FAILURE_CONDITION,
  type FailureCondition,
  type FailureDestination,
  type FunctionDefinition,
  type InvocationHooks,
  type InvocationInfo,
  type InvocationOutcome,
  type Invoker,
  type KinesisRecordData,
  type KinesisWindowEvent,
} from './types';
import type { ResolvedMappingConfig } from './validateConfig';

/** What a batch processor needs; all I/O is injected. */
export interface BatchProcessorOptions {
  readonly config: ResolvedMappingConfig;
  readonly fn: FunctionDefinition;
  readonly context: EventContext;
  readonly invoker: Invoker;
  readonly hooks?: InvocationHooks;
  readonly destination?: FailureDestination;
  /** Epoch ms, used for record age and failure timestamps. */
  readonly now: () => number;
  readonly newRequestId: () => string;
  /** Marks records as done (processed, discarded or sent to the failure destination). */
  readonly onDone: (records: readonly KinesisRecordData[]) => void;
  /** True once the runtime is stopping: unfinished records are left for redelivery. */
  readonly isStopped: () => boolean;
  /** Waits between retries of the same records. */
  readonly backoff: (attempt: number) => Promise<void>;
  readonly log?: (message: string) => void;
}

/** The open tumbling window of one sub-partition and the state the function returned for it. */
export interface OpenWindow {
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive. */
  readonly end: number;
  state: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Window bounds as Lambda writes them: ISO 8601 without milliseconds. */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Pending {
  readonly records: readonly KinesisRecordData[];
  /** Failed invocations these records have had (bisection does not count, like Lambda). */
  readonly failures: number;
  readonly lastOutcome?: InvocationOutcome;
}

/**
 * Delivers one batch of one shard (or sub-partition) with Lambda's stream error handling:
 * MaximumRecordAgeInSeconds, MaximumRetryAttempts, BisectBatchOnFunctionError,
 * ReportBatchItemFailures and the on-failure destination. Resolves when every record is done, or
 * early when the runtime stops (the rest will be redelivered from the checkpoint).
 */
export class BatchProcessor {
  /** Set by the poller when the mapping has tumbling windows. */
  public window: OpenWindow | undefined;

  public constructor(private readonly options: BatchProcessorOptions) {}

  /**
   * The final invocation of the open window (`isFinalInvokeForWindow`), retried until it succeeds
   * because Lambda pauses the shard until it does. With `terminatedEarly` (state over 1 MB) the same
   * window continues with a fresh state.
   */
  public async finalizeWindow(terminatedEarly = false): Promise<void> {
    const window = this.window;
    if (window === undefined) return;
    for (let attempt = 1; !this.options.isStopped(); attempt += 1) {
      if (attempt > 1) await this.options.backoff(attempt - 1);
      if (this.options.isStopped()) return;
      const outcome = await this.invokeEvent(
        this.windowEvent([], window, true, terminatedEarly),
        this.options.newRequestId(),
        attempt,
      );
      if (outcome.ok) {
        if (terminatedEarly) window.state = {};
        else this.window = undefined;
        return;
      }
    }
  }

  public async process(records: readonly KinesisRecordData[]): Promise<void> {
    const { config } = this.options;
    const queue: Pending[] = [{ records, failures: 0 }];
    while (queue.length > 0 && !this.options.isStopped()) {
      const item = queue.shift() as Pending;
      const fresh = await this.dropExpired(item);
      if (fresh.length === 0) continue;
      if (item.failures > 0) await this.options.backoff(item.failures);
      if (this.options.isStopped()) return;
      const requestId = this.options.newRequestId();
      const outcome = await this.invoke(fresh, requestId, item.failures + 1);
      // Stopping: leave these records unacknowledged; they are redelivered from the checkpoint.
      if (this.options.isStopped()) return;
      let failedFrom: number | undefined;
      const window = this.window;
      if (
        outcome.ok &&
        window !== undefined &&
        !isObject((outcome.payload as Record<string, unknown> | null)?.['state'])
      ) {
        // With tumbling windows a response without `state` is a failed invocation.
        this.options.log?.('tumbling-window response has no state object: treated as a failure');
        failedFrom = 0;
      } else if (outcome.ok) {
        if (window !== undefined)
          window.state = (outcome.payload as { state: Record<string, unknown> }).state;
        const verdict = config.reportBatchItemFailures
          ? interpretBatchResponse(
              outcome.payload,
              fresh.map((r) => r.sequenceNumber),
            )
          : ({ kind: 'success' } as const);
        if (verdict.kind === 'success') {
          this.options.onDone(fresh);
          await this.limitWindowState();
          continue;
        }
        if (verdict.kind === 'partial') {
          this.options.onDone(fresh.slice(0, verdict.resumeIndex));
          failedFrom = verdict.resumeIndex;
        } else {
          this.options.log?.(`partial batch response treated as a failure: ${verdict.reason}`);
          failedFrom = 0;
        }
      } else {
        failedFrom = 0;
      }
      const failed = fresh.slice(failedFrom);
      if (config.bisectBatchOnFunctionError && !outcome.ok && failed.length > 1) {
        // Lambda splits a failed batch in two and retries each half; splitting does not use up retries.
        const middle = Math.ceil(failed.length / 2);
        queue.unshift(
          { records: failed.slice(0, middle), failures: item.failures, lastOutcome: outcome },
          { records: failed.slice(middle), failures: item.failures, lastOutcome: outcome },
        );
        continue;
      }
      // A partial batch response resumes from the reported record (also with bisection on: Lambda
      // bisects at the returned sequence number and retries only the remaining records).
      const failures = item.failures + 1;
      if (config.maximumRetryAttempts !== -1 && failures > config.maximumRetryAttempts) {
        await this.discard(failed, FAILURE_CONDITION.RETRIES_EXHAUSTED, failures, outcome, requestId);
        continue;
      }
      queue.unshift({ records: failed, failures, lastOutcome: outcome });
    }
  }

  private async limitWindowState(): Promise<void> {
    if (
      this.window !== undefined &&
      JSON.stringify(this.window.state).length > ESM_LIMITS.MAX_WINDOW_STATE_BYTES
    ) {
      await this.finalizeWindow(true);
    }
  }

  private windowEvent(
    records: readonly KinesisRecordData[],
    window: OpenWindow,
    final: boolean,
    terminatedEarly: boolean,
  ): KinesisWindowEvent {
    return {
      ...buildStreamEvent(records, this.options.context),
      window: { start: isoSeconds(window.start), end: isoSeconds(window.end) },
      state: window.state,
      shardId: this.options.context.shardId,
      eventSourceARN: this.options.context.streamArn,
      isFinalInvokeForWindow: final,
      isWindowTerminatedEarly: terminatedEarly,
    };
  }

  /** Removes (and sends to the destination) records older than MaximumRecordAgeInSeconds. */
  private async dropExpired(item: Pending): Promise<readonly KinesisRecordData[]> {
    const maxAge = this.options.config.maximumRecordAgeInSeconds;
    if (maxAge === -1) return item.records;
    const oldestAllowed = this.options.now() - maxAge * 1000;
    const expired = item.records.filter((r) => r.approximateArrivalTimestamp < oldestAllowed);
    if (expired.length === 0) return item.records;
    await this.discard(
      expired,
      FAILURE_CONDITION.RECORD_AGE_EXCEEDED,
      item.failures,
      item.lastOutcome,
      this.options.newRequestId(),
    );
    return item.records.filter((r) => r.approximateArrivalTimestamp >= oldestAllowed);
  }

  private async discard(
    records: readonly KinesisRecordData[],
    condition: FailureCondition,
    invokeCount: number,
    lastOutcome: InvocationOutcome | undefined,
    requestId: string,
  ): Promise<void> {
    const { destination, fn, context } = this.options;
    this.options.log?.(
      `discarding ${records.length} record(s) of ${context.shardId} (${condition}) from ${records[0]?.sequenceNumber} to ${records[records.length - 1]?.sequenceNumber}`,
    );
    if (destination !== undefined) {
      const record = buildStreamFailureRecord({
        records,
        context,
        requestId,
        functionArn: fn.functionArn,
        condition,
        invokeCount,
        ...(lastOutcome === undefined ? {} : { lastOutcome }),
        now: this.options.now(),
      });
      const event = buildStreamEvent(records, context);
      // The record is how a skipped batch can be replayed: retried until it is sent, like Lambda, which keeps
      // the shard waiting rather than losing it; stopping leaves the records for redelivery instead.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await destination.send(this.options.config.uuid, record, event);
          break;
        } catch (error) {
          this.options.log?.(
            `on-failure destination of ${context.shardId} failed, retrying: ${String(error)}`,
          );
        }
        await this.options.backoff(attempt);
        if (this.options.isStopped()) return;
      }
    }
    this.options.onDone(records);
  }

  private async invoke(
    records: readonly KinesisRecordData[],
    requestId: string,
    attempt: number,
  ): Promise<InvocationOutcome> {
    const event =
      this.window === undefined
        ? buildStreamEvent(records, this.options.context)
        : this.windowEvent(records, this.window, false, false);
    return this.invokeEvent(event, requestId, attempt);
  }

  private async invokeEvent(
    event: KinesisStreamEvent,
    requestId: string,
    attempt: number,
  ): Promise<InvocationOutcome> {
    const { fn, hooks, invoker, context } = this.options;
    const info: InvocationInfo = {
      mappingUuid: this.options.config.uuid,
      shardId: context.shardId,
      functionName: fn.functionName,
      requestId,
      attempt,
      event,
    };
    const fault = await hooks?.beforeInvoke?.(info);
    let outcome: InvocationOutcome;
    if (fault === 'crashBefore') {
      outcome = {
        ok: false,
        functionError: 'Crashed',
        errorType: 'InjectedFault',
        errorMessage: 'injected crash before the handler ran',
      };
    } else {
      outcome = await invoker.invoke({ fn, event, requestId });
      if (fault === 'duplicate') outcome = await invoker.invoke({ fn, event, requestId });
      if (fault === 'crashAfter') {
        outcome = {
          ok: false,
          functionError: 'Crashed',
          errorType: 'InjectedFault',
          errorMessage: 'injected crash after the handler ran',
        };
      } else if (fault === 'timeout') {
        outcome = {
          ok: false,
          functionError: 'TimedOut',
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds (injected)`,
        };
      }
    }
    await hooks?.onInvoke?.(info, outcome);
    return outcome;
  }
}
