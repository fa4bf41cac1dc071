import { buildFailureRecord, buildKinesisEvent, type EventContext } from './kinesisEvent';
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
  public constructor(private readonly options: BatchProcessorOptions) {}

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
      if (outcome.ok) {
        const verdict = config.reportBatchItemFailures
          ? interpretBatchResponse(outcome.payload, fresh.map((r) => r.sequenceNumber))
          : ({ kind: 'success' } as const);
        if (verdict.kind === 'success') {
          this.options.onDone(fresh);
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

  /** Removes (and sends to the destination) records older than MaximumRecordAgeInSeconds. */
  private async dropExpired(item: Pending): Promise<readonly KinesisRecordData[]> {
    const maxAge = this.options.config.maximumRecordAgeInSeconds;
    if (maxAge === -1) return item.records;
    const oldestAllowed = this.options.now() - maxAge * 1000;
    const expired = item.records.filter((r) => r.approximateArrivalTimestamp < oldestAllowed);
    if (expired.length === 0) return item.records;
    await this.discard(expired, FAILURE_CONDITION.RECORD_AGE_EXCEEDED, item.failures, item.lastOutcome, this.options.newRequestId());
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
      const record = buildFailureRecord({
        records,
        context,
        requestId,
        functionArn: fn.functionArn,
        condition,
        invokeCount,
        ...(lastOutcome === undefined ? {} : { lastOutcome }),
        now: this.options.now(),
      });
      await destination.send(this.options.config.uuid, record, buildKinesisEvent(records, context));
    }
    this.options.onDone(records);
  }

  private async invoke(records: readonly KinesisRecordData[], requestId: string, attempt: number): Promise<InvocationOutcome> {
    const { fn, hooks, invoker, context } = this.options;
    const event = buildKinesisEvent(records, context);
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
      outcome = { ok: false, functionError: 'Crashed', errorType: 'InjectedFault', errorMessage: 'injected crash before the handler ran' };
    } else {
      outcome = await invoker.invoke({ fn, event, requestId });
      if (fault === 'duplicate') outcome = await invoker.invoke({ fn, event, requestId });
      if (fault === 'crashAfter') {
        outcome = { ok: false, functionError: 'Crashed', errorType: 'InjectedFault', errorMessage: 'injected crash after the handler ran' };
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
