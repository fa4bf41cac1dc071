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
});
