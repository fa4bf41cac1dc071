/**
 * Tick Lambda (EventBridge schedule): lets idle shards stop holding the watermark back, closes the
 * windows that became due and finishes emissions a crash left in `emitting` (DESIGN.md §2–3).
 * Bundled per pipeline like the operator (`operatorHandler.ts`).
 *
 * A direct invoke with a drain request (`{ "action": "shardflow:drain", "atLeast"?: n }`, `drain.ts`)
 * closes and emits every open window now: `shardflow deploy --drain` sends it to the deployed (old)
 * definition before an incompatible change. Only principals allowed `lambda:InvokeFunction` on the
 * function can send it (the schedule's rule sends its own scheduled event); anything that is not a drain
 * request runs the scheduled tick.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { assembleOperatorRuntime } from '../adapters/operatorRuntimeCore';
import type { RuntimeParts } from '../adapters/runtimeParts';
import { METRICS, SERVICE_NAMES } from '../core/constants';
import { drainRequestOf, type DrainResult } from '../core/state/drain';
import type { StatefulPipeline } from '../core/state/types';

/**
 * Time a close pass may take at most, kept free before the function's timeout: publishing a pass's rows
 * retries for up to ~5 s (`StreamPublisher`), plus the pass's reads, Parquet and writes.
 */
const PASS_BUDGET_MS = 15_000;

/** The part of Lambda's context the tick reads. */
interface TickContext {
  getRemainingTimeInMillis(): number;
}

export interface TickResult {
  readonly watermark: number | null;
  readonly windowsEmitted: number;
}

/**
 * The scheduled tick handler for `pipeline` with the runtime `parts` it needs (`runtimePartsOf`); reads its
 * configuration from `env` at once (cold start).
 */
export function tickHandler(
  pipeline: StatefulPipeline,
  parts: RuntimeParts,
  env: Readonly<Record<string, string | undefined>> = process.env,
): (event?: unknown, context?: TickContext) => Promise<TickResult | DrainResult> {
  const runtime = assembleOperatorRuntime(SERVICE_NAMES.TICK, pipeline, parts, env);
  return async (event, context) => {
    const before = { ...runtime.store.stats };
    const lettersBefore = runtime.processor.resultsDeadLettered;
    try {
      const drain = drainRequestOf(event);
      const shardIds = await runtime.listOpenShards();
      if (drain !== undefined) {
        const drained = await runtime.processor.drain(
          drain.atLeast,
          shardIds === undefined ? {} : { shardIds },
        );
        runtime.metrics.addMetric(METRICS.WINDOWS_EMITTED, MetricUnit.Count, drained.windowsEmitted);
        runtime.recordStore(before, drained.drainedThrough ?? Number.NEGATIVE_INFINITY);
        runtime.logger.info('Drain done', { ...drained });
        return drained;
      }
      // Close passes stop starting in time for the last one to end before the timeout; the next tick goes on.
      const passesUntil =
        context === undefined ? undefined : Date.now() + context.getRemainingTimeInMillis() - PASS_BUDGET_MS;
      const result = await runtime.processor.tick(undefined, {
        ...(shardIds === undefined ? {} : { shardIds }),
        ...(passesUntil === undefined ? {} : { passesUntil }),
      });
      runtime.metrics.addMetric(METRICS.WINDOWS_EMITTED, MetricUnit.Count, result.windowsEmitted);
      // Batches Lambda skipped after their retries wait under the failure prefix until replayed.
      const failed = await runtime.countFailedBatches();
      if (failed !== undefined)
        runtime.metrics.addMetric(METRICS.FAILED_BATCHES_PENDING, MetricUnit.Count, failed);
      if (failed !== undefined && failed > 0) {
        runtime.logger.warn(
          'Batches were skipped after their retries; replay them with shardflow replay-failures',
          { failedBatches: failed },
        );
      }
      runtime.recordStore(before, result.watermark);
      runtime.logger.info('Tick done', {
        watermark: result.watermark,
        windowsEmitted: result.windowsEmitted,
      });
      return {
        watermark: Number.isFinite(result.watermark) ? result.watermark : null,
        windowsEmitted: result.windowsEmitted,
      };
    } catch (error) {
      // A failed tick is retried by the next schedule; emission is idempotent at every step. A close pass
      // that could not publish its results is counted (PublishFailures) and logged as such.
      if (!runtime.recordRefusal(error) && !runtime.recordPublishFailure(error))
        runtime.logger.error('Tick failed', { error });
      throw error;
    } finally {
      runtime.recordDeadLetters(lettersBefore);
      runtime.metrics.publishStoredMetrics();
    }
  };
}
