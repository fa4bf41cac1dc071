import * as path from 'node:path';
import type { SourceTableKey } from './constructs/SourceTable';

/** The name of the export by which a table-source pipeline's module declares its table's key. */
export const SOURCE_TABLE_EXPORT = 'sourceTable';

/**
 * The key a pipeline module declares for the table its pipeline reads (`export const sourceTable = …`), or
 * undefined when it declares none; the stack validates it (`validateSourceTableKey`) and creates the table.
 * Loaded as `loadPipelineModule` loads the module (relative to the working directory, under tsx); a module
 * that cannot be loaded declares nothing here, and `loadPipelineModule` says why.
 */
export function sourceTableOfModule(modulePath: string): SourceTableKey | undefined {
  let exports: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's pipeline module, found at run time
    exports = require(path.resolve(modulePath));
  } catch {
    return undefined;
  }
  return typeof exports === 'object' && exports !== null
    ? ((exports as Record<string, unknown>)[SOURCE_TABLE_EXPORT] as SourceTableKey | undefined)
    : undefined;
}
