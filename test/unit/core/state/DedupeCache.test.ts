import { DedupeCache } from '../../../../functions/core/state/DedupeCache';
import { encodeSegment } from '../../../../functions/core/state/segmentCodec';
import { dedupeHash } from '../../../../functions/core/state/keys';
import type { Segment, ShardProgress, StateStore } from '../../../../functions/core/state/types';

/** A progress at `commits` whose oldest pending window starts at commit `firstPending` (none when undefined). */
const progress = (commits: number, firstPending?: number): ShardProgress =>
  ({
    pipeline: 'p',
    shardId: 'shardId-000000000000',
    commits,
    pending:
      firstPending === undefined
        ? []
        : [{ start: 0, end: 60_000, firstCommit: firstPending, lastCommit: commits }],
  }) as unknown as ShardProgress;

/** A store holding the segments of `ids` (commit → the raw dedupe ids it applied); counts its reads. */
function storeOf(ids: Record<number, readonly string[]>): { store: StateStore; reads: number[][] } {
  const reads: number[][] = [];
  const store = {
    readSegments: (_p: ShardProgress, from: number, to: number): Promise<Segment[]> => {
      reads.push([from, to]);
      const out: Segment[] = [];
      for (let c = from; c <= to; c++)
        out.push({
          commit: c,
          body: encodeSegment({ windows: [], dedupeHashes: (ids[c] ?? []).map(dedupeHash) }),
        } as unknown as Segment);
      return Promise.resolve(out);
    },
  } as unknown as StateStore;
  return { store, reads };
}

const seenOf = (set: ReadonlySet<string>, ids: readonly string[]): string[] =>
  ids.filter((id) => set.has(id));

describe('DedupeCache', () => {
  it('an id applied by two kept commits stays seen until both have left the horizon', async () => {
    const { store } = storeOf({ 1: ['a', 'b'], 2: ['c'], 3: ['a', 'd'] });
    const cache = new DedupeCache(100);
    const shard = 'shardId-000000000000';
    expect(seenOf(await cache.seen(store, 'p', shard, progress(3, 1)), ['a', 'b', 'c', 'd', 'e'])).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
    // Commit 1 leaves the horizon: b goes, a stays (commit 3 holds it too).
    expect(seenOf(await cache.seen(store, 'p', shard, progress(3, 2)), ['a', 'b', 'c', 'd'])).toEqual([
      'a',
      'c',
      'd',
    ]);
    // Commit 3 leaves too: a goes.
    cache.committed('p', shard, progress(4, 4), [dedupeHash('e')]);
    expect(seenOf(await cache.seen(store, 'p', shard, progress(4, 4)), ['a', 'b', 'c', 'd', 'e'])).toEqual([
      'e',
    ]);
  });

  it('a hash held three times goes only with its last commit', async () => {
    const { store } = storeOf({ 1: ['a'], 2: ['a'], 3: ['a'], 4: ['z'] });
    const cache = new DedupeCache(100);
    const shard = 'shardId-000000000000';
    await cache.seen(store, 'p', shard, progress(4, 1));
    for (const [from, expected] of [
      [2, ['a', 'z']],
      [3, ['a', 'z']],
      [4, ['z']],
    ] as const)
      expect(seenOf(await cache.seen(store, 'p', shard, progress(4, from)), ['a', 'z'])).toEqual(expected);
  });

  it('keeps at most maxIds, dropping the oldest commits first, and reads only the segments it lacks', async () => {
    const { store, reads } = storeOf({ 1: ['a', 'b'], 2: ['c', 'd'], 3: ['e'] });
    const cache = new DedupeCache(3);
    const shard = 'shardId-000000000000';
    expect(seenOf(await cache.seen(store, 'p', shard, progress(3, 1)), ['a', 'b', 'c', 'd', 'e'])).toEqual([
      'c',
      'd',
      'e',
    ]);
    cache.committed('p', shard, progress(4, 1), [dedupeHash('f')]);
    expect(seenOf(await cache.seen(store, 'p', shard, progress(4, 1)), ['c', 'd', 'e', 'f'])).toEqual([
      'e',
      'f',
    ]);
    expect(reads).toEqual([[1, 3]]);
  });
});
