/**
 * Operator Lambda: runs the pipeline over one Kinesis batch with exactly-once effects and reports
 * `batchItemFailures` from the first unapplied record when infrastructure fails (DESIGN.md §3–4).
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { createOperatorRuntime } from '../adapters/operatorRuntime';
import { decodeKinesisEvent } from '../adapters/kinesisEventCodec';
import { BatchApplyError } from '../core/state/errors';

const runtime = createOperatorRuntime('shardflow-operator');

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  const records = decodeKinesisEvent(event);
  const before = { ...runtime.store.stats };
  try {
    const result = await runtime.processor.apply(records);
    runtime.recordBatch(result);
    runtime.recordStore(before, result.watermark);
    return { batchItemFailures: [] };
  } catch (error) {
    if (error instanceof BatchApplyError && error.recordsApplied) {
      // Every record is in; only emission failed, and the next invocation or the tick finishes it.
      runtime.logger.warn('Window emission failed after the batch was applied', { error });
      return { batchItemFailures: [] };
    }
    runtime.logger.error('Batch not applied; Lambda will redeliver from its first record', { error, records: records.length });
    // Effects are fenced per record, so resuming at the batch's first record is exact, never duplicating.
    const first = records[0];
    return { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: first.sequenceNumber }] };
  } finally {
    runtime.metrics.publishStoredMetrics();
  }
};
