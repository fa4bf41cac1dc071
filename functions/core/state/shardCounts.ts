/**
 * The record counts shards keep in their progress items (see `ShardProgress.counts`): added per commit
 * by the commit builder, summed over shards by whoever reports a pipeline's totals.
 */
import type { ShardCounts, ShardProgress } from './types';

export const NO_COUNTS: ShardCounts = { records: 0, rejected: 0, late: 0, duplicates: 0 };

/** `a + b`, field by field. */
export function addCounts(a: ShardCounts | undefined, b: ShardCounts): ShardCounts {
  if (a === undefined) return b;
  const operators = addOperators(a.operators, b.operators);
  const published = (a.published ?? 0) + (b.published ?? 0);
  return {
    records: a.records + b.records,
    rejected: a.rejected + b.rejected,
    late: a.late + b.late,
    duplicates: a.duplicates + b.duplicates,
    ...(published > 0 ? { published } : {}),
    ...(operators !== undefined ? { operators } : {}),
  };
}

/** Per-operator counts added pairwise (a chain that changed length keeps the longer list's tail). */
function addOperators(a: ShardCounts['operators'], b: ShardCounts['operators']): ShardCounts['operators'] {
  if (a === undefined || a.length === 0) return b !== undefined && b.length > 0 ? b : undefined;
  if (b === undefined || b.length === 0) return a;
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => [
    (a[i]?.[0] ?? 0) + (b[i]?.[0] ?? 0),
    (a[i]?.[1] ?? 0) + (b[i]?.[1] ?? 0),
  ]);
}

/** The pipeline's totals: every shard's counts added (shards without counts add nothing). */
export function sumCounts(shards: readonly Pick<ShardProgress, 'counts'>[]): ShardCounts {
  return shards.reduce<ShardCounts>((total, shard) => addCounts(total, shard.counts ?? NO_COUNTS), NO_COUNTS);
}
