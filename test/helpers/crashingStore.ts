import { InMemoryStateStore, type InMemoryStateTables } from '../../functions/core/state/InMemoryStateStore';

/** A store over `tables` whose progress write always fails: the instance crashes after its window writes. */
export function storeCrashingBeforeProgress(tables: InMemoryStateTables): InMemoryStateStore {
  const store = new InMemoryStateStore({ tables });
  store.writeShardProgress = async () => {
    throw new Error('crash before the progress write');
  };
  return store;
}
