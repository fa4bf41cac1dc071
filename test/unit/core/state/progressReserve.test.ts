/**
 * A shard's progress item grows with its pending windows (~34 bytes each): a lagging shard holds the other
 * shards' windows open, and a producer spreading event times over many windows fills the item. Once full, a
 * record that would add a window is dead-lettered `STATE_LIMIT`, and that dead-letter commit must fit:
 * commits adding state leave `PROGRESS_RESERVE_BYTES` free, and a refused attempt writes nothing (so the
 * dead letter takes attempt 0 and adds no attempt entry). Before, the dead letter grew the same full item and
 * the batch failed on every delivery until the watermark rose.
 */
import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../../functions/core/dsl';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import { PROGRESS_RESERVE_BYTES } from '../../../../functions/core/state/limits';
import { itemBytes, progressToItem } from '../../../../functions/core/state/stateItems';
import { REJECT_REASONS, type RawRecord } from '../../../../functions/core/types';
import { jsonEncoder } from '../../../helpers/jsonEncoder';

const SHARD = 'shardId-000000000000';
const NOW = Date.UTC(2026, 0, 2, 3, 0, 0);
const MINUTE = 60_000;
const Ev = z.object({ k: z.string(), t: z.number() });

// Two provisioned shards: until the second one reports, no window of the first is closed (as while any
// other active shard lags behind).
const spread = pipeline('spread')
  .source({ stream: 's', shards: 2 })
  .clean({ schema: Ev, eventTime: (e) => e.t })
  .keyBy((e) => e.k)
  .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
  .aggregate({ n: count() })
  .sink({ table: 't' });

/** A progress item of at most 24 KiB: full at ~235 windows (8 KiB above the reserve) instead of ~8,500. */
const LIMIT = 24 * 1024;

test('when pending windows fill the progress item, the records that would add more are dead-lettered and every batch commits', async () => {
  const store = new InMemoryStateStore({ maxProgressBytes: LIMIT });
  const objects = new InMemoryObjectStore();
  const processor = new BatchProcessor({
    pipeline: spread,
    store,
    objects,
    encoder: jsonEncoder,
    clock: { now: () => NOW },
  });
  let seq = 0;
  let minute = 0;
  // One record per minute, going back in time: each opens a window of its own.
  const batch = (n: number): RawRecord[] =>
    Array.from({ length: n }, () => ({
      shardId: SHARD,
      sequenceNumber: String(++seq),
      partitionKey: 'p',
      data: Buffer.from(JSON.stringify({ k: 'a', t: NOW - ++minute * MINUTE })).toString('base64'),
      approximateArrivalTimestamp: NOW,
    }));
  let rejected = 0;
  for (let i = 0; i < 4; i++) rejected += (await processor.apply(batch(100))).rejected;

  const shard = (await store.readProgress('spread')).shards[0]!;
  const bytes = itemBytes(progressToItem(shard));
  expect(bytes).toBeLessThanOrEqual(LIMIT);
  expect(bytes).toBeGreaterThan(LIMIT - PROGRESS_RESERVE_BYTES - 100);
  expect(shard.lastSequence).toBe(String(400).padStart(shard.lastSequence.length, '0'));
  // Every record is in a pending window or dead-lettered for the limit: none lost, none counted twice.
  expect(shard.pending.length + rejected).toBe(400);
  expect(rejected).toBeGreaterThan(100);
  const deadLetters = [...objects.objects.keys()]
    .filter((k) => k.startsWith('rejected/'))
    .flatMap((k) => (objects.text(k) ?? '').trim().split('\n'))
    .map((line) => JSON.parse(line) as { reason: string; detail: string });
  expect(deadLetters).toHaveLength(rejected);
  expect(new Set(deadLetters.map((d) => d.reason))).toEqual(new Set([REJECT_REASONS.STATE_LIMIT]));
  expect(deadLetters[0]!.detail).toMatch(
    /^Progress item of shard shardId-000000000000 would be \d+ bytes \(at most 8192, keeping 16384 for dead letters, of DynamoDB's 409600-byte item limit\): \d+ windows pending$/,
  );
  // The dead letters added no attempt entries: each refused attempt wrote nothing.
  expect(shard.attempts ?? []).toEqual([]);
});
