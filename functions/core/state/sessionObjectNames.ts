/**
 * How session result objects are named, and which a restore replaces. A close pass of a session pipeline
 * (`SessionCloser.ts`) writes one object per hour partition of its sessions' starts, named by the
 * `emittedEnd` the pass started from (every pass raises it, so no two passes share a name). A pipeline
 * restored from a savepoint (`savepointCut.ts`) emits again every session the lost table's passes emitted
 * after the savepoint was cut, through close passes of its own that end elsewhere, so under other names:
 * those objects are removed before the restored pipeline runs (`removeSupersededSessionObjects`), or each
 * such session would be in the results twice. (A fixed window's object is named by its bounds and is
 * overwritten instead.)
 */
import { BUCKET_PREFIX } from '../constants';
import { mapWithConcurrency } from './concurrency';
import { assertSafeName, hivePartition } from './paths';
import type { ObjectStore, PipelineProgress } from './types';

const ENDING_AFTER = /^sessions-ending-after-(-?\d+)$/;
const LEGACY_AFTER = /^sessions-after-(-?\d+)$/;
const FIRST = 'sessions-first';

/**
 * The name of a pass's objects (in each hour partition): the `emittedEnd` the pass started from. A pipeline
 * item without `emittedEnd` (written before it was kept) names them by `emittedThrough`, as the pass it may
 * be retrying did.
 */
export function sessionObjectName(pipeline: PipelineProgress | undefined): string {
  if (pipeline?.emittedEnd !== undefined) return `sessions-ending-after-${pipeline.emittedEnd}`;
  const emitted = pipeline?.emittedThrough ?? -Infinity;
  return emitted === -Infinity ? FIRST : `sessions-after-${emitted}`;
}

/**
 * Where a pass named `name` stands in the order passes run: the first pass, then passes named by
 * `emittedThrough` (before `emittedEnd` was kept), then passes named by `emittedEnd`, each by its mark.
 * Undefined for a name no close pass writes.
 */
function passOrder(name: string): readonly [era: number, mark: number] | undefined {
  if (name === FIRST) return [0, -Infinity];
  const legacy = LEGACY_AFTER.exec(name);
  if (legacy !== null) return [1, Number(legacy[1])];
  const ending = ENDING_AFTER.exec(name);
  return ending === null ? undefined : [2, Number(ending[1])];
}

/**
 * The keys among `keys` (objects of a session pipeline's result table) that close passes wrote from the
 * restored pipeline item `restored` on: the pass named by `restored` and every later one.
 */
export function supersededSessionObjects(
  keys: readonly string[],
  restored: PipelineProgress | undefined,
): string[] {
  const [era, mark] = passOrder(sessionObjectName(restored))!;
  return keys.filter((key) => {
    const base = key.slice(key.lastIndexOf('/') + 1);
    const dot = base.lastIndexOf('.');
    const order = passOrder(dot === -1 ? base : base.slice(0, dot));
    return order !== undefined && (order[0] > era || (order[0] === era && order[1] >= mark));
  });
}

/**
 * Removes the objects of `table` that close passes wrote from `restored` on (see the module comment);
 * returns how many. Only partitions from the restored session floor's hour on are listed: a session still
 * open when the savepoint was cut starts at or after it.
 */
export async function removeSupersededSessionObjects(
  objects: ObjectStore,
  table: string,
  restored: PipelineProgress | undefined,
  concurrency = 8,
): Promise<number> {
  const prefix = `${BUCKET_PREFIX.RESULTS}${assertSafeName('Table', table)}/`;
  const floor = restored?.sessionFloor;
  // Keys of the floor's hour are `<prefix>dt=…/hour=HH/…`, which sort after this.
  const startAfter =
    floor !== undefined && Number.isFinite(floor) && floor >= 0
      ? `${prefix}${hivePartition(floor)}`
      : undefined;
  const superseded = supersededSessionObjects(await objects.listKeys(prefix, startAfter), restored);
  await mapWithConcurrency(superseded, concurrency, (key) => objects.deleteObject(key));
  return superseded.length;
}
