import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { describeStateStoreContract } from '../../../helpers/stateStoreContract';

describeStateStoreContract('InMemoryStateStore', async () => {
  const tables = new InMemoryStateTables();
  return { store: new InMemoryStateStore({ tables }), sibling: () => new InMemoryStateStore({ tables }) };
});

describe('InMemoryStateStore cache', () => {
  test('when the cache size is 0, every read goes to the backend', async () => {
    const store = new InMemoryStateStore({ cacheSize: 0 });
    const ref = { key: 'k', window: { start: 0, end: 1 } };
    await store.readWindows('p', [ref]);
    await store.readWindows('p', [ref]);
    expect(store.stats.cacheHits).toBe(0);
    expect(store.stats.requests).toBe(2);
  });

  test('when the cache size is negative, construction fails naming the value', () => {
    expect(() => new InMemoryStateStore({ cacheSize: -1 })).toThrow('cacheSize must be a non-negative integer (given -1)');
  });

  test('when cached items keep turning out stale, reads bypass the cache until writes succeed again', async () => {
    const tables = new InMemoryStateTables();
    const mine = new InMemoryStateStore({ tables });
    const other = new InMemoryStateStore({ tables });
    const base = { pipeline: 'p', key: 'k', state: {}, records: 1, fence: {}, status: 'open' as const, ttl: 1 };
    const ref = { key: 'k', window: { start: 0, end: 1 } };
    await mine.writeWindow({ ...base, window: ref.window, version: 1 }, { expectedVersion: undefined, fenceBelow: {} }, 1);
    for (let v = 1; v <= 3; v++) {
      const [cached] = (await mine.readWindows('p', [ref])).values();
      const [current] = (await other.readWindows('p', [ref])).values();
      await other.writeWindow({ ...base, window: ref.window, version: (current?.version ?? 0) + 1 }, { expectedVersion: current?.version, fenceBelow: {} }, 1);
      await mine.writeWindow({ ...base, window: ref.window, version: (cached?.version ?? 0) + 1 }, { expectedVersion: cached?.version, fenceBelow: {} }, 1).catch(() => undefined);
    }
    const requests = mine.stats.requests;
    await mine.readWindows('p', [ref]);
    expect(mine.stats.cacheBypasses).toBeGreaterThan(0);
    expect(mine.stats.requests).toBe(requests + 1);
  });

  test('when a window is written as emitted, it leaves the cache and the next read goes to the backend', async () => {
    const store = new InMemoryStateStore();
    const ref = { key: 'k', window: { start: 0, end: 1 } };
    const open = { pipeline: 'p', key: 'k', window: ref.window, state: {}, records: 1, fence: {}, status: 'open' as const, ttl: 1, version: 1 };
    await store.writeWindow(open, { expectedVersion: undefined, fenceBelow: {} }, 1);
    await store.readWindows('p', [ref]);
    expect(store.stats.cacheHits).toBe(1);
    await store.writeWindow({ ...open, version: 2, status: 'emitted' }, { expectedVersion: 1, fenceBelow: {} }, 1);
    const requests = store.stats.requests;
    expect([...(await store.readWindows('p', [ref])).values()][0]?.status).toBe('emitted');
    expect(store.stats.cacheHits).toBe(1);
    expect(store.stats.requests).toBe(requests + 1);
  });
});
