import type { CompiledPipeline } from '../core/engine/CompiledPipeline';
import { pageActivity } from './pageActivity';

/** Every shipped pipeline by name (`spec.name`); the handler picks one with `SHARDFLOW_PIPELINE`. */
export const pipelines: Readonly<Record<string, CompiledPipeline<unknown>>> = {
  [pageActivity.spec.name]: pageActivity as CompiledPipeline<unknown>,
};

/** The pipelines the CDK app deploys by default. */
export const defaultPipelines: readonly CompiledPipeline<unknown>[] = [
  pageActivity as CompiledPipeline<unknown>,
];

export { pageActivity };
