/**
 * Maps the outcome of applying a Kinesis batch to Lambda's partial batch response (DESIGN.md §4): only
 * infrastructure errors fail the batch, and then from its first record, which is exact because every
 * effect is fenced per record (nothing already applied is applied twice on redelivery).
 */
import type { RawRecord } from '../types';
import type { BatchProcessor, BatchResult } from './BatchProcessor';
import { BatchApplyError } from './errors';

/** Lambda's partial batch response for stream sources. */
export interface StreamBatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

/** What happened, for logging and metrics; `response` is what the handler returns. */
export interface BatchOutcome {
  readonly response: StreamBatchResponse;
  readonly result?: BatchResult;
  /** The failure, when there was one (also when only emission failed and the batch still succeeds). */
  readonly error?: unknown;
}

export async function processKinesisBatch(
  processor: Pick<BatchProcessor, 'apply'>,
  records: readonly RawRecord[],
): Promise<BatchOutcome> {
  try {
    const result = await processor.apply(records);
    return { response: { batchItemFailures: [] }, result };
  } catch (error) {
    // Every record is in; only emission failed, and the next invocation or the tick finishes it.
    if (error instanceof BatchApplyError && error.recordsApplied)
      return { response: { batchItemFailures: [] }, error };
    const first = records[0];
    return {
      response: { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: first.sequenceNumber }] },
      error,
    };
  }
}
