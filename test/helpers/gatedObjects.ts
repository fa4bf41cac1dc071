/**
 * Object stores over an `InMemoryObjectStore` for close-pass races: one whose result writes fail (a pass
 * that dies after raising its marks), one whose writes wait for a gate (a pass that writes after another).
 */
import type { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import type { ObjectStore } from '../../functions/core/state/types';

/** An object store whose `results/` writes fail while `down()` says so. */
export function flaky(objects: InMemoryObjectStore, down: () => boolean): ObjectStore {
  return {
    putObject: (key, body, type) =>
      down() && key.startsWith('results/')
        ? Promise.reject(new Error('results bucket down'))
        : objects.putObject(key, body, type),
    listKeys: (prefix, after) => objects.listKeys(prefix, after),
    deleteObject: (key) => objects.deleteObject(key),
  };
}

/** An object store whose writes wait until `release()`; `reached` settles at the first write. */
export function held(objects: InMemoryObjectStore): {
  readonly store: ObjectStore;
  readonly reached: Promise<void>;
  readonly release: () => void;
} {
  let release: () => void = () => undefined;
  let reach: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (reach = resolve));
  return {
    store: {
      putObject: async (key, body, type) => {
        reach();
        await gate;
        await objects.putObject(key, body, type);
      },
      listKeys: (prefix, after) => objects.listKeys(prefix, after),
      deleteObject: (key) => objects.deleteObject(key),
    },
    reached,
    release: () => release(),
  };
}
