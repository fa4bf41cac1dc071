/**
 * The record counts shards keep in their progress items (see `ShardProgress.counts`): added per commit
 * by the commit builder, summed over shards by whoever reports a pipeline's totals.
 */
import type { ShardCounts, ShardProgress } from './types';

export const NO_COUNTS: ShardCounts = { records: 0, rejected: 0, late: 0, duplicates: 0 };

/** `a + b`, field by field. */
export function addCounts(a: ShardCounts | undefined, b: ShardCounts): ShardCounts {
  if (a === undefined) return b;
  return {
    records: a.records + b.records,
    rejected: a.rejected + b.rejected,
    late: a.late + b.late,
    duplicates: a.duplicates + b.duplicates,
  };
}

/** The pipeline's totals: every shard's counts added (shards without counts add nothing). */
export function sumCounts(shards: readonly Pick<ShardProgress, 'counts'>[]): ShardCounts {
  return shards.reduce<ShardCounts>((total, shard) => addCounts(total, shard.counts ?? NO_COUNTS), NO_COUNTS);
}
