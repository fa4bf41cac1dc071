/**
 * The operator runtime with every part (`runtimeParts.ts`), picked for the pipeline: for what builds a
 * runtime outside a generated bundle (the local session's in-process tick, tests). A deployed function's
 * entry passes only the parts its pipeline uses to the handler factories instead.
 */
import type { StatefulPipeline } from '../core/state/types';
import type { PipelineSpec } from '../core/types';
import { kinesisPublisher } from './kinesisPublisher';
import { kinesisSource } from './kinesisSource';
import { assembleOperatorRuntime, type OperatorRuntime } from './operatorRuntimeCore';
import { runtimePartsOf, type RuntimeParts } from './runtimeParts';
import { tableSource } from './tableSource';

export { RuntimeConfigError, type OperatorRuntime } from './operatorRuntimeCore';

const PARTS = { kinesisSource, tableSource, kinesisPublisher } as const;

/** The parts `spec` needs (`runtimePartsOf`). */
export function runtimePartsFor(spec: PipelineSpec): RuntimeParts {
  const names = runtimePartsOf(spec);
  return {
    source: PARTS[names.source],
    ...(names.publisher === undefined ? {} : { publisher: PARTS[names.publisher] }),
  };
}

/**
 * Reads the configuration from `env` and builds the runtime of `pipeline` with the parts it needs.
 * @throws RuntimeConfigError naming the missing or invalid variable, or a `SHARDFLOW_PIPELINE` that is not
 * the pipeline's name.
 */
export function createOperatorRuntime(
  service: string,
  pipeline: StatefulPipeline,
  env: Readonly<Record<string, string | undefined>> = process.env,
): OperatorRuntime {
  return assembleOperatorRuntime(service, pipeline, runtimePartsFor(pipeline.spec), env);
}
