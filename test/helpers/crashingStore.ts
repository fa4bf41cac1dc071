import { InMemoryStateStore, type InMemoryStateTables } from '../../functions/core/state/InMemoryStateStore';

/** A store over `tables` whose commits always fail: the instance crashes after writing its side outputs. */
export function storeCrashingBeforeCommit(tables: InMemoryStateTables): InMemoryStateStore {
  const store = new InMemoryStateStore({ tables });
  store.commit = async () => {
    throw new Error('crash before the commit');
  };
  return store;
}
