/**
 * The Lambda entries of one pipeline module: two generated files that import the user's module, the
 * handler factories and the runtime parts the pipeline uses (`functions/adapters/runtimeParts.ts`: its
 * source's reader, the stream publisher when it publishes), so each function's esbuild bundle carries that
 * pipeline (and what its module imports) only, and none of the parts it does not use. Written under `<projectRoot>/.shardflow/entries/<pipeline>/`, inside the project root as
 * NodejsFunction requires; rewritten only when their text changes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pipelineOfModule } from '../../functions/core/engine/pipelineModule';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import type { StateShape } from '../../functions/core/state/stateFingerprint';
import type { PipelineSpec } from '../../functions/core/types';
import { runtimePartsOf } from '../../functions/adapters/runtimeParts';
import { ShardflowCdkError } from '../errors';

/**
 * Where the handler factories live: the TypeScript sources under `functions/handlers` (two folders up from
 * these sources, three from `dist/lib/constructs` in the installed package, which ships them), so esbuild
 * tree-shakes them (the compiled CommonJS would pull whole modules, e.g. all of zod's locales).
 */
export const HANDLERS_DIR =
  [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..')]
    .map((root) => path.join(root, 'functions', 'handlers'))
    .find((dir) => existsSync(path.join(dir, 'operatorHandler.ts'))) ??
  path.resolve(__dirname, '..', '..', 'functions', 'handlers');

/** The pipeline of a module, with the handler entries generated for it. */
export interface PipelineEntries {
  readonly spec: PipelineSpec;
  /** What shapes the pipeline's stored state (the stack's upgrade check compares it with the stored one). */
  readonly stateShape: StateShape;
  /** Absolute path of the pipeline module. */
  readonly module: string;
  /** The project the module belongs to (its `package-lock.json` pins the bundle's dependencies). */
  readonly projectRoot: string;
  readonly operatorEntry: string;
  readonly tickEntry: string;
}

/** The pipeline module is missing or exports no pipeline. */
export class PipelineModuleError extends ShardflowCdkError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineModuleError';
  }
}

/** The nearest directory at or above `from` holding a `package-lock.json`, else `fallback`. */
export function findProjectRoot(from: string, fallback: string = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package-lock.json'))) return dir;
    if (path.dirname(dir) === dir) return fallback;
  }
}

/** `from` → `to` as an import specifier (posix separators, leading `./`, no extension). */
function specifier(fromDir: string, to: string): string {
  const relative = path
    .relative(fromDir, to)
    .split(path.sep)
    .join('/')
    .replace(/\.(ts|js|mts|cts|mjs|cjs)$/, '');
  return relative.startsWith('.') ? relative : `./${relative}`;
}

function writeIfChanged(file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  writeFileSync(file, text);
}

/**
 * Why a module did not load, in one line: the message's first line, and when that only announces what
 * follows (esbuild's `Transform failed with 1 error:` for a syntax error), the line that says where and what
 * (`pipelines/x.ts:3:7: ERROR: Expected ";" but found "is"`).
 */
export function loadFailureReason(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const [first = '', second] = lines;
  return first.endsWith(':') && second !== undefined ? `${first} ${second}` : first;
}

/**
 * The exports of the pipeline module at `modulePath` (relative to the working directory) and its absolute path.
 * @throws PipelineModuleError when it does not exist or cannot be loaded, naming it and why.
 */
export function requirePipelineModule(modulePath: string): {
  readonly exports: unknown;
  readonly module: string;
} {
  const module = path.resolve(modulePath);
  if (!existsSync(module))
    throw new PipelineModuleError(`Pipeline module ${modulePath} does not exist (resolved to ${module})`);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's pipeline module, found at run time
    return { exports: require(module) as unknown, module };
  } catch (error) {
    const reason = error instanceof Error ? loadFailureReason(error.message) : String(error);
    throw new PipelineModuleError(`Cannot load pipeline module ${modulePath}: ${reason}`, { cause: error });
  }
}

/**
 * The pipeline a module holds (its default export, else its only exported pipeline): `modulePath` is loaded
 * relative to the working directory (TypeScript loads when the process runs under tsx, as `cdk.json` and the
 * CLI do). One loader for the CDK entries and the CLI.
 * @throws PipelineModuleError naming the module and what is wrong.
 */
export function loadPipelineModule(modulePath: string): {
  readonly pipeline: CompiledPipeline<unknown>;
  readonly module: string;
} {
  const { exports, module } = requirePipelineModule(modulePath);
  try {
    return { pipeline: pipelineOfModule(exports, modulePath), module };
  } catch (error) {
    throw new PipelineModuleError((error as Error).message, { cause: error });
  }
}

/**
 * Loads `modulePath` (`loadPipelineModule`), finds its pipeline and writes its operator and tick entries.
 * @throws PipelineModuleError naming the module and what is wrong.
 */
export function pipelineEntries(
  modulePath: string,
  options: { readonly projectRoot?: string } = {},
): PipelineEntries {
  const { pipeline, module } = loadPipelineModule(modulePath);
  const spec = pipeline.spec;
  const projectRoot = path.resolve(options.projectRoot ?? findProjectRoot(path.dirname(module)));
  const dir = path.join(projectRoot, '.shardflow', 'entries', spec.name);
  mkdirSync(dir, { recursive: true });
  const parts = runtimePartsOf(spec);
  // Each part is the export of the adapter module of its name.
  const partImports = Object.values(parts).map(
    (part) =>
      `import { ${part} } from '${specifier(dir, path.resolve(HANDLERS_DIR, '..', 'adapters', part))}';`,
  );
  const partsArgument = `{ ${Object.entries(parts)
    .map(([role, part]) => `${role}: ${part}`)
    .join(', ')} }`;
  const entry = (factory: 'operatorHandler' | 'tickHandler'): string =>
    [
      `// Generated by shardflow from ${specifier(projectRoot, module)}: the ${factory === 'operatorHandler' ? 'operator' : 'tick'} of pipeline ${spec.name}. Do not edit.`,
      `import * as pipelineModule from '${specifier(dir, module)}';`,
      `import { pipelineOfModule } from '${specifier(dir, path.resolve(HANDLERS_DIR, '..', 'core', 'engine', 'pipelineModule'))}';`,
      `import { ${factory} } from '${specifier(dir, path.join(HANDLERS_DIR, factory))}';`,
      ...partImports,
      '',
      `export const handler = ${factory}(pipelineOfModule(pipelineModule, ${JSON.stringify(specifier(projectRoot, module))}), ${partsArgument});`,
      '',
    ].join('\n');
  const operatorEntry = path.join(dir, 'operator.ts');
  const tickEntry = path.join(dir, 'tick.ts');
  writeIfChanged(operatorEntry, entry('operatorHandler'));
  writeIfChanged(tickEntry, entry('tickHandler'));
  return { spec, stateShape: pipeline.stateShape, module, projectRoot, operatorEntry, tickEntry };
}
