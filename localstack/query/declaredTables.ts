import { readFileSync } from 'node:fs';

/**
 * A result table as the stack declares it (its Glue table, or the pipeline's spec): what Athena answers with
 * 0 rows before the first window closes, and the local engine too (an empty view of these columns).
 */
export interface DeclaredTable {
  readonly name: string;
  /** Columns in order, the partition columns aside; types as Glue or a pipeline spec names them (`string`, `bigint`, …). */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

/**
 * The Glue tables (`AWS::Glue::Table`) of a synthesized stack template: none when there is no template, it
 * cannot be read, or the stack has no analytics.
 */
export function declaredTables(templatePath: string | undefined): DeclaredTable[] {
  if (templatePath === undefined) return [];
  let template: { Resources?: Record<string, { Type?: string; Properties?: GlueTableProperties }> };
  try {
    template = JSON.parse(readFileSync(templatePath, 'utf8')) as typeof template;
  } catch {
    return [];
  }
  const tables: DeclaredTable[] = [];
  for (const resource of Object.values(template.Resources ?? {})) {
    const input = resource.Type === 'AWS::Glue::Table' ? resource.Properties?.TableInput : undefined;
    if (typeof input?.Name !== 'string') continue;
    const columns = (input.StorageDescriptor?.Columns ?? []).filter(
      (c): c is { Name: string; Type: string } => typeof c.Name === 'string' && typeof c.Type === 'string',
    );
    tables.push({ name: input.Name, columns: columns.map((c) => ({ name: c.Name, type: c.Type })) });
  }
  return tables;
}

/** The part of `AWS::Glue::Table` properties read here (names may be tokens in other templates). */
interface GlueTableProperties {
  readonly TableInput?: {
    readonly Name?: unknown;
    readonly StorageDescriptor?: { readonly Columns?: readonly { Name?: unknown; Type?: unknown }[] };
  };
}
