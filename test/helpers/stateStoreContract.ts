/**
 * The state-store contract (d2ts style): one suite, run against every `StateStore` implementation —
 * the in-memory store in the unit project and the DynamoDB store on the emulator in the integration one.
 */
import { StateConflictError } from '../../functions/core/state/errors';
import { dedupeHash, padSequenceNumber } from '../../functions/core/state/keys';
import type { StateStore } from '../../functions/core/state/types';
import { WINDOW_STATUS, type ShardProgress, type WindowStateItem } from '../../functions/core/types';

/** What a contract test needs from an implementation. */
export interface StateStoreFixture {
  /** A store over the shared backend. */
  readonly store: StateStore;
  /** Another store instance over the same backend with its own (cold) cache: a second Lambda instance. */
  sibling(): StateStore;
}

let counter = 0;
const uniquePipeline = (): string => `contract-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;

function item(pipeline: string, key: string, start: number, overrides: Partial<WindowStateItem> = {}): WindowStateItem {
  return {
    pipeline,
    key,
    window: { start, end: start + 60_000 },
    state: { views: { count: 1, sum: 2.5, min: 2.5, max: 2.5 }, nested: [1, 'two', null, true, { x: -0.125 }] },
    records: 1,
    fence: { 'shardId-000000000000': padSequenceNumber('100') },
    version: 1,
    status: WINDOW_STATUS.OPEN,
    ttl: 2_000_000_000,
    ...overrides,
  };
}

function progress(pipeline: string, shardId: string, overrides: Partial<ShardProgress> = {}): ShardProgress {
  return {
    pipeline,
    shardId,
    watermark: 1_000,
    maxEventTime: 6_000,
    lastSequence: padSequenceNumber('100'),
    archivedSequence: padSequenceNumber('90'),
    lastActivity: 1_700_000_000_000,
    closed: false,
    version: 1,
    ...overrides,
  };
}

async function conflictOf(promise: Promise<unknown>): Promise<StateConflictError<WindowStateItem | ShardProgress>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StateConflictError) return error;
    throw error;
  }
  throw new Error('expected a StateConflictError, but the write succeeded');
}

/** Registers the contract suite for one implementation. */
export function describeStateStoreContract(name: string, factory: () => Promise<StateStoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StateStoreFixture;
    let pipeline: string;
    beforeEach(async () => {
      fixture = await factory();
      pipeline = uniquePipeline();
    });

    test('when an item does not exist, it is not returned and a create-only write stores it for every instance', async () => {
      const first = item(pipeline, 'user#1 ü', 60_000, { seenIds: [dedupeHash('event-b'), dedupeHash('event-a')] });
      expect((await fixture.store.readWindows(pipeline, [first])).size).toBe(0);
      await fixture.store.writeWindow(first, { expectedVersion: undefined, fenceBelow: first.fence }, 120_000);
      const read = await fixture.sibling().readWindows(pipeline, [first]);
      expect([...read.values()]).toEqual([first]);
    });

    test('when a create-only write meets an existing item, it fails with the existing item', async () => {
      const first = item(pipeline, 'a', 0);
      await fixture.store.writeWindow(first, { expectedVersion: undefined, fenceBelow: {} }, 60_000);
      const conflict = await conflictOf(fixture.sibling().writeWindow(item(pipeline, 'a', 0, { records: 9 }), { expectedVersion: undefined, fenceBelow: {} }, 60_000));
      expect(conflict.existing).toEqual(first);
    });

    test('when the stored version moved on, a conditional write fails with the newer item and refreshes the cache', async () => {
      const a = fixture.store;
      const b = fixture.sibling();
      const v1 = item(pipeline, 'k', 0);
      await a.writeWindow(v1, { expectedVersion: undefined, fenceBelow: {} }, 60_000);
      await a.readWindows(pipeline, [v1]);
      const v2 = { ...v1, records: 2, version: 2, fence: { 'shardId-000000000000': padSequenceNumber('200') } };
      const [fresh] = [...(await b.readWindows(pipeline, [v1])).values()];
      expect(fresh).toEqual(v1);
      await b.writeWindow(v2, { expectedVersion: 1, fenceBelow: { 'shardId-000000000000': padSequenceNumber('200') }, status: 'open' }, 60_000);
      const stale = { ...v1, records: 5, version: 2 };
      const conflict = await conflictOf(a.writeWindow(stale, { expectedVersion: 1, fenceBelow: { 'shardId-000000000001': padSequenceNumber('5') } }, 60_000));
      expect(conflict.existing).toEqual(v2);
      expect([...(await a.readWindows(pipeline, [v1])).values()]).toEqual([v2]);
      expect(a.stats.conflicts).toBeGreaterThanOrEqual(1);
    });

    test('when a shard fence is already at or past the new sequence, the write fails', async () => {
      const v1 = item(pipeline, 'k', 0);
      await fixture.store.writeWindow(v1, { expectedVersion: undefined, fenceBelow: {} }, 60_000);
      const atFence = await conflictOf(fixture.store.writeWindow({ ...v1, version: 2 }, { expectedVersion: 1, fenceBelow: { 'shardId-000000000000': padSequenceNumber('100') } }, 60_000));
      expect(atFence.existing).toEqual(v1);
      const written = await fixture.store.writeWindow({ ...v1, version: 2 }, { expectedVersion: 1, fenceBelow: { 'shardId-000000000000': padSequenceNumber('101'), 'shardId-000000000009': padSequenceNumber('1') } }, 60_000);
      expect(written.version).toBe(2);
    });

    test('when a long sequence number is compared, padding makes string order numeric order', async () => {
      const shard = 'shardId-000000000000';
      const v1 = item(pipeline, 'k', 0, { fence: { [shard]: padSequenceNumber('9'.repeat(20)) } });
      await fixture.store.writeWindow(v1, { expectedVersion: undefined, fenceBelow: {} }, 60_000);
      await conflictOf(fixture.store.writeWindow({ ...v1, version: 2 }, { expectedVersion: 1, fenceBelow: { [shard]: padSequenceNumber('100000') } }, 60_000));
      await fixture.store.writeWindow({ ...v1, version: 2 }, { expectedVersion: 1, fenceBelow: { [shard]: padSequenceNumber('1' + '0'.repeat(20)) } }, 60_000);
    });

    test('when the stored status differs from the required one, the write fails', async () => {
      const v1 = item(pipeline, 'k', 0, { status: WINDOW_STATUS.EMITTING, emissionId: 'abc' });
      await fixture.store.writeWindow(v1, { expectedVersion: undefined, fenceBelow: {} }, 60_000);
      const conflict = await conflictOf(fixture.store.writeWindow({ ...v1, version: 2, status: WINDOW_STATUS.EMITTED }, { expectedVersion: 1, fenceBelow: {}, status: WINDOW_STATUS.OPEN }, 60_000));
      expect(conflict.existing).toEqual(v1);
    });

    test('when more windows are read than one batch request holds, all of them come back', async () => {
      const items = Array.from({ length: 130 }, (_, i) => item(pipeline, `key-${i}`, i * 60_000));
      await Promise.all(items.map((it) => fixture.store.writeWindow(it, { expectedVersion: undefined, fenceBelow: {} }, it.window.end)));
      const read = await fixture.sibling().readWindows(pipeline, [...items, item(pipeline, 'missing', 0)]);
      expect(read.size).toBe(130);
      expect([...read.values()].sort((x, y) => x.window.start - y.window.start)).toEqual(items);
    });

    test('when windows are open, emitting or emitted, only the first two are listed as due, oldest first', async () => {
      const open = item(pipeline, 'open', 0);
      const emitting = item(pipeline, 'emitting', 60_000, { status: WINDOW_STATUS.EMITTING, emissionId: 'e' });
      const emitted = item(pipeline, 'emitted', 0, { status: WINDOW_STATUS.EMITTED, emissionId: 'f' });
      const later = item(pipeline, 'later', 600_000);
      await fixture.store.writeWindow(emitting, { expectedVersion: undefined, fenceBelow: {} }, 120_000);
      await fixture.store.writeWindow(open, { expectedVersion: undefined, fenceBelow: {} }, 60_000);
      await fixture.store.writeWindow(emitted, { expectedVersion: undefined, fenceBelow: {} }, 60_000);
      await fixture.store.writeWindow(later, { expectedVersion: undefined, fenceBelow: {} }, 660_000);
      const due = await fixture.store.listDueWindows(pipeline, 120_000, 10);
      expect(due).toEqual([
        { key: 'open', window: open.window, closeAt: 60_000, status: 'open' },
        { key: 'emitting', window: emitting.window, closeAt: 120_000, status: 'emitting' },
      ]);
      expect(await fixture.store.listDueWindows(pipeline, 120_000, 1)).toHaveLength(1);
      expect(await fixture.store.nextCloseAt(pipeline)).toBe(60_000);
      await fixture.store.writeWindow({ ...open, version: 2, status: WINDOW_STATUS.EMITTED }, { expectedVersion: 1, fenceBelow: {}, status: 'open' }, 60_000);
      expect((await fixture.store.listDueWindows(pipeline, 1e15, 10)).map((d) => d.key)).toEqual(['emitting', 'later']);
    });

    test('when shard progress is written, it is fenced by version and last sequence and read back whole', async () => {
      const p1 = progress(pipeline, 'shardId-000000000001', { watermark: null, maxEventTime: null });
      await fixture.store.writeShardProgress(p1, undefined);
      const p2 = { ...p1, watermark: 5, maxEventTime: 10, lastSequence: padSequenceNumber('200'), version: 2 };
      await fixture.store.writeShardProgress(p2, 1);
      const stale = await conflictOf(fixture.sibling().writeShardProgress({ ...p1, version: 2 }, 1));
      expect(stale.existing).toEqual(p2);
      const backwards = await conflictOf(fixture.store.writeShardProgress({ ...p2, lastSequence: padSequenceNumber('150'), version: 3 }, 2));
      expect(backwards.existing).toEqual(p2);
      const other = progress(pipeline, 'shardId-000000000000');
      await fixture.store.writeShardProgress(other, undefined);
      const snapshot = await fixture.sibling().readProgress(pipeline);
      expect(snapshot.shards).toEqual([other, p2]);
      expect(snapshot.pipeline).toBeUndefined();
    });

    test('when the closed watermark is raised and then offered a lower value, it keeps the higher one', async () => {
      expect(await fixture.store.raiseClosedWatermark(pipeline, 5_000)).toBe(5_000);
      expect(await fixture.store.raiseClosedWatermark(pipeline, 3_000)).toBe(5_000);
      expect(await fixture.store.raiseClosedWatermark(pipeline, 7_000)).toBe(7_000);
      const snapshot = await fixture.sibling().readProgress(pipeline);
      expect(snapshot.pipeline).toEqual({ pipeline, closedWatermark: 7_000 });
      expect(snapshot.shards).toEqual([]);
    });

    test('when a write carries the wrong next version, it is refused before reaching the backend', async () => {
      const before = fixture.store.stats.requests;
      await expect(fixture.store.writeWindow(item(pipeline, 'k', 0, { version: 3 }), { expectedVersion: undefined, fenceBelow: {} }, 60_000)).rejects.toThrow('version must be 1');
      expect(fixture.store.stats.requests).toBe(before);
    });
  });
}
