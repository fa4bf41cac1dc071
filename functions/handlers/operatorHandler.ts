/**
 * Operator Lambda: runs the pipeline over one Kinesis (or DynamoDB-stream) batch with exactly-once effects and reports
 * `batchItemFailures` from the first unapplied record when infrastructure fails (DESIGN.md §3–4).
 *
 * Each deployed operator's bundle is generated from its pipeline module (`lib/constructs/pipelineEntries.ts`):
 * `export const handler = operatorHandler(pipelineOfModule(module), { source: kinesisSource })`, so it carries
 * that pipeline only, and of the runtime parts (`adapters/runtimeParts.ts`) the ones it uses only.
 */
import type { DynamoDBStreamEvent, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { assembleOperatorRuntime } from '../adapters/operatorRuntimeCore';
import type { RuntimeParts } from '../adapters/runtimeParts';
import { answerWindow } from '../adapters/tumblingWindowEvent';
import { SERVICE_NAMES } from '../core/constants';
import { processKinesisBatch } from '../core/state/batchResponse';
import type { StatefulPipeline } from '../core/state/types';

/**
 * An event source mapping handler for `pipeline` (a Kinesis stream's, or a table's DynamoDB stream's) with
 * the runtime `parts` it needs (`runtimePartsOf`); reads its configuration from `env` at once (cold start).
 */
export function operatorHandler(
  pipeline: StatefulPipeline,
  parts: RuntimeParts,
  env: Readonly<Record<string, string | undefined>> = process.env,
): (event: KinesisStreamEvent | DynamoDBStreamEvent) => Promise<KinesisStreamBatchResponse> {
  const runtime = assembleOperatorRuntime(SERVICE_NAMES.OPERATOR, pipeline, parts, env);
  return async (event) => {
    const records = await runtime.decode(event);
    const before = { ...runtime.store.stats };
    const lettersBefore = runtime.processor.resultsDeadLettered;
    try {
      const { response, result, error } = await processKinesisBatch(runtime.processor, records);
      if (result !== undefined) {
        runtime.recordBatch(result);
        runtime.recordStore(before, result.watermark);
      }
      if (error !== undefined && runtime.recordRefusal(error)) {
        // Logged and counted: the records are in, the windows holding the other shape wait.
      } else if (error !== undefined && runtime.recordPublishFailure(error)) {
        // Counted and logged: the batch is redelivered, and its redelivery publishes again what it committed.
      } else if (error !== undefined && response.batchItemFailures.length === 0) {
        runtime.logger.warn(
          'Window emission failed after the batch was applied; the next invocation or tick finishes it',
          { error },
        );
      } else if (error !== undefined) {
        runtime.logger.error('Batch not applied; Lambda redelivers from its first record', {
          error,
          records: records.length,
        });
      }
      // A mapping with a tumbling window fails an answer without `state`.
      return answerWindow(event, response);
    } finally {
      runtime.recordDeadLetters(lettersBefore);
      runtime.metrics.publishStoredMetrics();
    }
  };
}
