import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { itemKey } from '../../../../functions/core/state/stateItems';
import {
  commitWithSegment,
  describeStateStoreContract,
  progress,
  segment,
} from '../../../helpers/stateStoreContract';
import { describeLatenessChangeContract } from '../../../helpers/latenessChangeContract';
import { describeLatenessRaceContract } from '../../../helpers/latenessRaceContract';
import { describeStateShapeContract } from '../../../helpers/stateShapeContract';

describeStateStoreContract('InMemoryStateStore', async () => {
  const tables = new InMemoryStateTables();
  return {
    store: new InMemoryStateStore({ tables }),
    sibling: () => new InMemoryStateStore({ tables }),
    putItem: async (item) => {
      const { pk, sk } = itemKey(item);
      if (!tables.partitions.has(pk)) tables.partitions.set(pk, new Map());
      tables.partitions.get(pk)!.set(sk, structuredClone(item));
    },
  };
});

describe('InMemoryStateStore segment cache', () => {
  test('when segments were read once, reading them again costs no request, and only later commits are fetched', async () => {
    const tables = new InMemoryStateTables();
    const writer = new InMemoryStateStore({ tables });
    const first = await commitWithSegment(
      writer,
      { progress: progress('p', { commits: 1 }), expectedVersion: undefined, closedWatermarkRead: -Infinity },
      segment('p', 1),
    );
    const reader = new InMemoryStateStore({ tables });
    expect((await reader.readSegments(first, 1, 1)).map((s) => s.commit)).toEqual([1]);
    const afterFirst = reader.stats.requests;
    expect((await reader.readSegments(first, 1, 1)).map((s) => s.commit)).toEqual([1]);
    expect(reader.stats.requests).toBe(afterFirst);
    const second = await commitWithSegment(
      writer,
      { progress: progress('p', { commits: 2, version: 2 }), expectedVersion: 1 },
      segment('p', 2),
    );
    expect((await reader.readSegments(second, 1, 2)).map((s) => s.commit)).toEqual([1, 2]);
    expect(reader.stats.requests).toBe(afterFirst + 1);
  });

  test('when the cache is disabled, every read goes to the backend', async () => {
    const tables = new InMemoryStateTables();
    const first = await commitWithSegment(
      new InMemoryStateStore({ tables }),
      { progress: progress('p', { commits: 1 }), expectedVersion: undefined, closedWatermarkRead: -Infinity },
      segment('p', 1),
    );
    const reader = new InMemoryStateStore({ tables, segmentCacheBytes: 0 });
    await reader.readSegments(first, 1, 1);
    await reader.readSegments(first, 1, 1);
    expect(reader.stats.requests).toBe(2);
  });

  test('when the cache size is negative, construction fails naming the value', () => {
    expect(() => new InMemoryStateStore({ segmentCacheBytes: -1 })).toThrow(
      'segmentCacheBytes must be a non-negative integer (given -1)',
    );
  });

  test("when a commit is written, write units follow item bytes, once per plain put and twice inside a first commit's transaction", async () => {
    const store = new InMemoryStateStore();
    await store.commit({
      progress: progress('p'),
      expectedVersion: undefined,
      closedWatermarkRead: -Infinity,
    });
    // progress (1 unit) and the condition check, both twice in the transaction
    expect(store.stats.writeUnits).toBe(2 * 1 + 2);
    const written = await store.writeSegment(segment('p', 1, 3_000));
    // a 3 KB segment chunk with its key and attributes: 4 units, once
    expect(store.stats.writeUnits).toBe(4 + 4);
    await store.commit({
      progress: progress('p', { commits: 1, version: 2 }),
      expectedVersion: 1,
      segment: written,
    });
    expect(store.stats.writeUnits).toBe(4 + 4 + 1);
  });
});

describeStateShapeContract('InMemoryStateStore', async () => new InMemoryStateStore());

describeLatenessChangeContract('InMemoryStateStore', async () => new InMemoryStateStore());

describeLatenessRaceContract('InMemoryStateStore', async () => new InMemoryStateStore());
