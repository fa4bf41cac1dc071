/**
 * A batch whose side outputs fail: the segment written beside them (the two writes run at once) is deleted,
 * so the retry takes attempt 0 again and the shard's progress records no attempt (`segmentAttempts.ts`).
 */
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { ObjectStore } from '../../../../functions/core/state/types';
import { pageViewsPipeline, rawRecord } from '../../../faults/pageViewsPipeline';
import { jsonEncoder as encoder } from '../../../helpers/jsonEncoder';

const SHARD = 'shardId-000000000000';
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);
const views = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) =>
    rawRecord(SHARD, from + i, {
      id: `e${from + i}`,
      user: `u${(from + i) % 5}`,
      ms: from + i,
      ts: T0 + (from + i) * 100,
    }),
  );

test('when a batch fails writing its side outputs three times, no segment attempt is left and the retry takes attempt 0', async () => {
  const tables = new InMemoryStateTables();
  const store = new InMemoryStateStore({ tables });
  const inner = new InMemoryObjectStore();
  let failures = 0;
  const objects: ObjectStore = {
    putObject: async (key, body, type) => {
      if (failures > 0 && key.startsWith('clean/')) {
        failures -= 1;
        throw new Error('S3 down');
      }
      return inner.putObject(key, body, type);
    },
    listKeys: (prefix, after) => inner.listKeys(prefix, after),
    deleteObject: (key) => inner.deleteObject(key),
  };
  const processor = new BatchProcessor({
    pipeline: pageViewsPipeline(),
    store,
    objects,
    encoder,
    clock: { now: () => T0 },
  });
  await processor.apply(views(1, 10));
  failures = 3;
  for (let i = 0; i < 3; i++)
    await expect(processor.apply(views(11, 10))).rejects.toThrow('Applying a batch of 10 records');
  await processor.apply(views(11, 10));
  const [shard] = (await store.readProgress('page-views')).shards;
  expect(shard!.commits).toBe(2);
  expect(shard!.attempts).toBeUndefined();
  const segmentKeys = [...tables.partitions.values()]
    .flatMap((partition) => [...partition.keys()])
    .filter((key) => /^\d{12}#/.test(key));
  expect(segmentKeys.map((key) => key.slice(0, 17)).sort()).toEqual([
    '000000000001#0000',
    '000000000002#0000',
  ]);
});
