import { z } from 'zod';
import { pipeline } from '../../../../functions/core';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { ResultEncoder, ShardCommit } from '../../../../functions/core/state/types';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1, 12);
const NOW = T0 + 3_600_000;
const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];
const Click = z.object({ user: z.string(), ts: z.number() });

/** Two shards, no window: the tick has nothing to close. */
const publishOnly = pipeline('clean-two')
  .source({ stream: 'clickstream', shards: 2 })
  .clean({ schema: Click, eventTime: (c) => c.ts })
  .toStream('clicks-clean', { partitionKey: (c) => c.user });

const noRows: ResultEncoder = { contentType: 'x', extension: 'x', encode: () => new Uint8Array() };

function setup() {
  const store = new InMemoryStateStore({ tables: new InMemoryStateTables() });
  const writes: ShardCommit[] = [];
  const commit = store.commit.bind(store);
  store.commit = (request) => {
    writes.push(request);
    return commit(request);
  };
  let now = NOW;
  const processor = new BatchProcessor({
    pipeline: publishOnly,
    store,
    objects: new InMemoryObjectStore(),
    encoder: noRows,
    clock: { now: () => now },
    publisher: { stream: 'clicks-clean', publish: () => Promise.resolve() },
  });
  const records = (shard: number, from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) =>
      rawRecord(
        { user: `u${i % 3}`, ts: T0 + (from + i) * 1000 * (shard + 1) },
        { shardId: SHARDS[shard]!, sequenceNumber: from + i, approximateArrivalTimestamp: now },
      ),
    );
  return { processor, store, writes, records, setNow: (t: number) => (now = t) };
}

describe("a publish-only pipeline's tick", () => {
  it('raises no close mark: with two shards behind the watermark, it writes no shard progress', async () => {
    const { processor, store, writes, records } = setup();
    await processor.apply(records(0, 1, 6));
    await processor.apply(records(1, 1, 6));
    const before = await store.readProgress('clean-two');
    writes.length = 0;
    await processor.tick(undefined, { shardIds: SHARDS });
    await processor.tick();
    expect(writes).toEqual([]);
    expect((await store.readProgress('clean-two')).shards).toEqual(before.shards);
  });

  it('raises no close mark at the end of input or in a drain either', async () => {
    const { processor, store, writes, records } = setup();
    await processor.apply(records(0, 1, 6));
    await processor.apply(records(1, 1, 6));
    const before = await store.readProgress('clean-two');
    writes.length = 0;
    await processor.drain();
    await processor.tick(Number.POSITIVE_INFINITY);
    const frozenBefore = new Map(before.shards.map((s) => [s.shardId, s.frozen]));
    expect(writes.filter((w) => w.progress.frozen !== frozenBefore.get(w.progress.shardId))).toEqual([]);
  });

  it('still sweeps the side outputs of idle shards: one sweep-mark write per shard, frozen untouched', async () => {
    const { processor, store, writes, records, setNow } = setup();
    await processor.apply(records(0, 1, 6));
    await processor.apply(records(1, 1, 6));
    const before = await store.readProgress('clean-two');
    setNow(NOW + 17 * 60_000);
    writes.length = 0;
    await processor.tick(undefined, { shardIds: SHARDS });
    expect(writes.map((w) => w.progress.shardId).sort()).toEqual(SHARDS);
    const after = await store.readProgress('clean-two');
    for (const shard of after.shards) {
      const was = before.shards.find((s) => s.shardId === shard.shardId)!;
      expect(shard.frozen).toBe(was.frozen);
      expect(shard.sweep?.swept).toBe(shard.commits);
      expect(was.sweep?.swept ?? 0).toBeLessThan(shard.commits);
    }
  });

  it('registers a shard that has delivered nothing yet (it holds the reported watermark until idle), once', async () => {
    const { processor, store, writes, records } = setup();
    await processor.apply(records(0, 1, 6));
    writes.length = 0;
    await processor.tick(undefined, { shardIds: SHARDS });
    await processor.tick(undefined, { shardIds: SHARDS });
    expect(writes.map((w) => [w.progress.shardId, w.expectedVersion])).toEqual([[SHARDS[1], undefined]]);
    expect((await store.readProgress('clean-two')).shards.map((s) => s.shardId).sort()).toEqual(SHARDS);
  });
});
