/**
 * Which pipeline a user's module holds: its default export, else its only exported pipeline. One rule for
 * the CLI (`shardflow run ./pipelines/orders.ts`), the CDK construct (`entry`) and the generated Lambda
 * entries, so all three pick the same pipeline from a module.
 */
import { PipelineDefinitionError } from '../errors';
import type { CompiledPipeline } from './CompiledPipeline';

/** Looks like a compiled pipeline (the DSL's `.sink()` result), from whichever copy of shardflow built it. */
export function isPipeline(value: unknown): value is CompiledPipeline<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { spec?: { name?: unknown }; prepare?: unknown; combine?: unknown };
  return (
    typeof candidate.spec?.name === 'string' &&
    typeof candidate.prepare === 'function' &&
    typeof candidate.combine === 'function'
  );
}

/**
 * The pipeline a module exports (`exports` as `require` or `import *` gives it); `label` names the module in
 * the error.
 * @throws PipelineDefinitionError when the module exports no pipeline, or several and none as default.
 */
export function pipelineOfModule(exports: unknown, label: string): CompiledPipeline<unknown> {
  const values = typeof exports === 'object' && exports !== null ? (exports as Record<string, unknown>) : {};
  if (isPipeline(values.default)) return values.default;
  const exported = Object.values(values).filter(isPipeline);
  // A publish-only base (`.toStream()` may end a definition) that another export goes on from (`.keyBy()…
  // .sink()`, same name) is a step of that pipeline, not a second one.
  const found = exported.filter(
    (p) =>
      p.spec.sink !== undefined ||
      !exported.some((q) => q.spec.name === p.spec.name && q.spec.sink !== undefined),
  );
  const [only] = found;
  if (found.length === 1 && only !== undefined) return only;
  throw new PipelineDefinitionError(
    found.length === 0
      ? `${label} exports no pipeline: export default pipeline('name')…sink({ table })`
      : `${label} exports ${found.length} pipelines: make the one to run the default export`,
  );
}
