import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { pipelines } from '../../functions/pipelines';
import { ShardflowCliError } from './errors';

/** The pipeline is neither a shipped one nor a module exporting one. */
export class UnknownPipelineError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnknownPipelineError';
  }
}

function isPipeline(value: unknown): value is CompiledPipeline<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { spec?: { name?: unknown }; prepare?: unknown; combine?: unknown };
  return (
    typeof candidate.spec?.name === 'string' &&
    typeof candidate.prepare === 'function' &&
    typeof candidate.combine === 'function'
  );
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
  if (!/\.(ts|js|cjs|mjs)$/.test(nameOrPath) || !existsSync(path)) {
    throw new UnknownPipelineError(
      `Unknown pipeline "${nameOrPath}": not a shipped pipeline (${Object.keys(pipelines).join(', ')}) nor a .ts/.js pipeline file`,
    );
  }
  let exports: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- user pipeline modules are loaded at run time
    exports = require(path) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UnknownPipelineError(`Cannot load pipeline file ${nameOrPath}: ${reason}`, { cause: error });
  }
  if (isPipeline(exports.default)) return exports.default;
  const found = Object.values(exports).filter(isPipeline);
  const [only] = found;
  if (found.length === 1 && only !== undefined) return only;
  throw new UnknownPipelineError(
    found.length === 0
      ? `${nameOrPath} exports no pipeline: export default pipeline('name')…sink({ table })`
      : `${nameOrPath} exports ${found.length} pipelines: make the one to run the default export`,
  );
}
