import { requirePipelineModule } from './constructs/pipelineEntries';
import type { SourceTableKey } from './constructs/SourceTable';

/** The name of the export by which a table-source pipeline's module declares its table's key. */
export const SOURCE_TABLE_EXPORT = 'sourceTable';

/**
 * The key a pipeline module declares for the table its pipeline reads (`export const sourceTable = …`), or
 * undefined when it declares none; the stack validates it (`validateSourceTableDeployment`) and creates the
 * table. Loaded as `loadPipelineModule` loads the module (relative to the working directory, under tsx).
 * @throws PipelineModuleError when the module does not exist or cannot be loaded, naming it and why.
 */
export function sourceTableOfModule(modulePath: string): SourceTableKey | undefined {
  const { exports } = requirePipelineModule(modulePath);
  return typeof exports === 'object' && exports !== null
    ? ((exports as Record<string, unknown>)[SOURCE_TABLE_EXPORT] as SourceTableKey | undefined)
    : undefined;
}
