/**
 * The shards whose applied dedupe ids a commit of a shard also checks: a producer retry keeps its partition
 * key, but after a reshard the key maps to a child shard, and a skipped batch is replayed under a replay
 * shard (`SkippedBatchReplay`), so the first copy may have been applied by a parent, by the original shard
 * of a replay, or by that shard's other replays.
 */
import { replayOrigin } from '../shardId';
import type { ShardProgress } from './types';

/** How many generations of parents are followed (a shard split or merged more often is not looked past). */
const MAX_LINEAGE_DEPTH = 3;

/**
 * The related shards of `shardId` (never itself): its parents and theirs (`parents` for the shard itself,
 * which may have no progress item yet; the stored `parents` for the others); for a replay shard, its original
 * shard, that shard's other replays and its parents.
 */
export function relatedShards(
  shardId: string,
  parents: readonly string[],
  shards: readonly ShardProgress[],
): string[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const related = new Set<string>();
  const addLineage = (id: string, depth: number): void => {
    for (const parent of id === shardId ? parents : (byId.get(id)?.parents ?? [])) {
      if (related.has(parent) || depth > MAX_LINEAGE_DEPTH) continue;
      related.add(parent);
      addLineage(parent, depth + 1);
    }
  };
  addLineage(shardId, 0);
  const origin = replayOrigin(shardId);
  if (origin !== undefined) {
    related.add(origin);
    for (const s of shards)
      if (s.shardId !== shardId && replayOrigin(s.shardId) === origin) related.add(s.shardId);
    for (const parent of byId.get(origin)?.parents ?? []) related.add(parent);
  }
  related.delete(shardId);
  return [...related];
}
