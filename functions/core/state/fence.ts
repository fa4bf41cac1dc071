/** Fence arithmetic: per-shard high-water marks of zero-padded sequence numbers (DESIGN.md §3). */
import type { Fence } from '../types';

/** True when `sequence` (zero padded) is already covered by the fence of `shardId`. */
export function isFenced(fence: Fence | undefined, shardId: string, sequence: string): boolean {
  const mark = fence?.[shardId];
  return mark !== undefined && sequence <= mark;
}

/** True when every shard of `next` is strictly above the corresponding mark in `stored`. */
export function advancesFence(stored: Fence | undefined, next: Fence): boolean {
  return Object.entries(next).every(([shardId, sequence]) => !isFenced(stored, shardId, sequence));
}

/** Per-shard maximum of two fences. */
export function mergeFences(a: Fence, b: Fence): Fence {
  const merged: Record<string, string> = { ...a };
  for (const [shardId, sequence] of Object.entries(b)) {
    const current = merged[shardId];
    if (current === undefined || sequence > current) merged[shardId] = sequence;
  }
  return merged;
}
