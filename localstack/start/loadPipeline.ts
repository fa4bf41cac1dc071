import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { publishStreamOf } from '../../functions/core/engine/streamTap';
import { defaultPipelines, pipelines } from '../../functions/pipelines';
import { loadPipelineModule } from '../../lib/constructs/pipelineEntries';
import { PIPELINE_OUTPUTS } from '../../lib/outputNames';
import { ShardflowCliError } from './errors';

/** The pipeline is neither a shipped one nor a module exporting one. */
export class UnknownPipelineError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnknownPipelineError';
  }
}

/** True when `nameOrPath` names a shipped pipeline (not a module path). */
export function isShippedPipeline(nameOrPath: string): boolean {
  return pipelines[nameOrPath] !== undefined;
}

/**
 * The CDK context that deploys `nameOrPath`: none for a shipped pipeline (the app deploys those), else
 * `pipelines=<absolute module path>`, so the app deploys that module alone (lib/app.ts; the app
 * `shardflow init` writes does the same).
 */
export function synthContext(
  nameOrPath: string | undefined,
  ...more: readonly string[]
): Record<string, string> {
  if (more.length > 0) return { pipelines: [nameOrPath!, ...more].map((p) => resolve(p)).join(',') };
  return nameOrPath === undefined || isShippedPipeline(nameOrPath) ? {} : { pipelines: resolve(nameOrPath) };
}

/**
 * The pipelines a command reports when none is named (`status`, `console`, `replay-failures`): the shipped
 * ones the recorded deployment has (its `StreamName<Pipeline>` outputs), or all of them when no deployment
 * is recorded. A deployment of your own app (`shardflow init`, `run pipelines/x.ts --keep`) has none of the
 * shipped ones: reporting page-activity there would fail on its missing stream, so it says to name yours.
 *
 * @param outputs the recorded stack outputs (`.shardflow/outputs.json`), if any
 * @param usage how to name a pipeline in this command, e.g. `npx shardflow status pipelines/<module>.ts`
 * @throws UnknownPipelineError when the deployment has pipelines, none of them shipped
 */
export function deployedShippedPipelines(
  outputs: Readonly<Record<string, string | undefined>> | undefined,
  usage: string,
): CompiledPipeline<unknown>[] {
  const deployed = Object.entries(outputs ?? {}).filter(
    ([key, value]) => key.startsWith('StreamName') && value !== undefined,
  );
  if (deployed.length === 0) return [...defaultPipelines];
  const shipped = defaultPipelines.filter(
    (p) => outputs?.[PIPELINE_OUTPUTS.stream(p.spec.name)] !== undefined,
  );
  if (shipped.length > 0) return shipped;
  throw new UnknownPipelineError(
    `The deployment has ${deployed.map(([key, stream]) => `${key.slice('StreamName'.length)} (stream ${stream})`).join(', ')}, not the shipped ${defaultPipelines.map((p) => p.spec.name).join(', ')}: name the pipeline module, e.g. "${usage}"`,
  );
}

/**
 * `pipelines` loaded as one chain of stages: each after the first reads the stream the one before publishes
 * to (`.toStream()` or `.sink({ toStream })`); throws naming the first link that does not hold.
 */
export function loadStages(names: readonly string[]): CompiledPipeline<unknown>[] {
  const stages = names.map(loadPipeline);
  for (let i = 1; i < stages.length; i++) {
    const [before, after] = [stages[i - 1]!.spec, stages[i]!.spec];
    const published = publishStreamOf(before);
    if (published !== after.source.stream)
      throw new UnknownPipelineError(
        `Pipeline ${after.name} reads stream ${after.source.stream}, but ${before.name} before it ${published === undefined ? 'publishes to no stream' : `publishes to ${published}`}: list the stages in order, each reading what the one before publishes (toStream)`,
      );
  }
  return stages;
}

/**
 * A pipeline by shipped name (`page-activity`) or from a TypeScript/JavaScript module (its default
 * export, else its only exported pipeline). The CLI runs under tsx, so `.ts` files load directly.
 *
 * @throws UnknownPipelineError naming the shipped pipelines when nothing matches.
 */
export function loadPipeline(nameOrPath: string): CompiledPipeline<unknown> {
  const shipped = pipelines[nameOrPath];
  if (shipped !== undefined) return shipped;
  const path = resolve(nameOrPath);
  // A module path that names no file: say so, rather than that it is no .ts file.
  if (/\.(ts|js|cjs|mjs)$/.test(nameOrPath) && !existsSync(path))
    throw new UnknownPipelineError(
      `Pipeline module ${nameOrPath} not found (resolved to ${path}): check the path, or use a shipped pipeline (${Object.keys(pipelines).join(', ')})`,
    );
  if (!/\.(ts|js|cjs|mjs)$/.test(nameOrPath)) {
    throw new UnknownPipelineError(
      `Unknown pipeline "${nameOrPath}": not a shipped pipeline (${Object.keys(pipelines).join(', ')}) nor a .ts/.js pipeline file`,
    );
  }
  try {
    return loadPipelineModule(nameOrPath).pipeline;
  } catch (error) {
    throw new UnknownPipelineError((error as Error).message, { cause: error });
  }
}
