/**
 * `dedupeBy` drops a later copy of an id on its shard whatever its key or window, within a batch as across
 * batches (`WindowCombiner.isLaterCopy`), so `shardflow run --in-memory` (batches of 100 in file order) and
 * the stack (copies in separate Lambda batches) print the same rows. Found by the runBounded/stack parity
 * review (boundedStackParity.test.ts): within one batch a copy was dropped only in its own (key, window).
 */
import { z } from 'zod';
import { count, pipeline, session, tumbling } from '../../../../functions/core/dsl';
import type { CompiledPipeline } from '../../../../functions/core/engine/CompiledPipeline';
import { runBounded } from '../../../../functions/core/runner/boundedRunner';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { RawRecord, WindowSpec } from '../../../../functions/core/types';
import { jsonEncoder } from '../../../helpers/jsonEncoder';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2026, 5, 1, 12);
const Ev = z.object({ id: z.string(), k: z.string(), t: z.number() });

const build = (window: WindowSpec) =>
  pipeline('dedupe-batching')
    .source({ stream: 'in', shards: 1 })
    .clean({ schema: Ev, eventTime: (e) => e.t, dedupeBy: (e) => e.id })
    .keyBy((e) => e.k, 'k')
    .window(window, { allowedLateness: '1h', maxOutOfOrderness: '1m' })
    .aggregate({ n: count() })
    .sink({ table: 'dedupe_batching' }) as unknown as CompiledPipeline<unknown>;

/** The stack's apply path: one Lambda invocation per batch of one shard, then the end-of-input tick. */
async function stack(p: CompiledPipeline<unknown>, batches: RawRecord[][]) {
  const objects = new InMemoryObjectStore();
  const processor = new BatchProcessor({
    pipeline: p,
    store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
    objects,
    encoder: jsonEncoder,
    clock: { now: () => T0 + 120_000 },
  });
  let duplicates = 0;
  for (const batch of batches) duplicates += (await processor.apply(batch)).duplicateEvents;
  await processor.tick(Number.POSITIVE_INFINITY);
  const rows = [...objects.objects.keys()]
    .filter((key) => key.startsWith('results/'))
    .flatMap((key) => JSON.parse(objects.text(key)!) as { k: string; n: number }[])
    .map((r) => ({ k: r.k, n: r.n }));
  return { rows, duplicates };
}

/** What `shardflow run --in-memory` does (batches of 100), its rows shaped as {@link stack}'s. */
async function bounded(p: CompiledPipeline<unknown>, records: RawRecord[]) {
  const run = await runBounded(p, records);
  return { rows: run.rows.map((r) => ({ k: r['k'], n: Number(r['n']) })), duplicates: run.duplicates };
}

const record = (value: unknown, seq: number) =>
  rawRecord(value, {
    shardId: 'shardId-000000000000',
    sequenceNumber: seq,
    approximateArrivalTimestamp: T0 + 120_000,
  });

describe('dedupeBy gives the same rows however the copies of an id are batched', () => {
  it('when a producer retry of id e1 carries a re-stamped event time in the next minute, it counts once whether the copies share a batch or not', async () => {
    const p = build(tumbling('1m'));
    // The retry was re-stamped by the producer: 200 ms later, across the minute boundary.
    const records = [
      record({ id: 'e1', k: 'a', t: T0 + 59_900 }, 1),
      record({ id: 'e1', k: 'a', t: T0 + 60_100 }, 2),
    ];
    const inMemory = await bounded(p, records); // what `shardflow run --in-memory` does: batches of 100
    const lambda = await stack(p, [[records[0]!], [records[1]!]]);
    expect(lambda).toEqual({ rows: [{ k: 'a', n: 1 }], duplicates: 1 });
    expect(inMemory).toEqual(lambda);
  });

  it('when two records share id e1 under different keys, the first counts and the second is a duplicate, in one batch or two', async () => {
    const p = build(tumbling('1m'));
    const records = [record({ id: 'e1', k: 'a', t: T0 }, 1), record({ id: 'e1', k: 'b', t: T0 }, 2)];
    const inMemory = await bounded(p, records);
    const lambda = await stack(p, [[records[0]!], [records[1]!]]);
    expect(inMemory).toEqual(lambda);
  });

  it('when a session retry of id e1 lands more than the gap later, it counts once whether the copies share a batch or not', async () => {
    const p = build(session('15s'));
    const records = [record({ id: 'e1', k: 'a', t: T0 }, 1), record({ id: 'e1', k: 'a', t: T0 + 30_000 }, 2)];
    const inMemory = await bounded(p, records);
    const lambda = await stack(p, [[records[0]!], [records[1]!]]);
    expect(inMemory).toEqual(lambda);
  });

  it('when a dropped copy of id x would bridge two sessions, it bridges nothing: two sessions in one batch as in separate ones', async () => {
    const p = build(session('15s'));
    const records = [
      record({ id: 'x', k: 'a', t: T0 }, 1),
      record({ id: 'x', k: 'a', t: T0 + 10_000 }, 2), // a re-stamped retry of x: dropped, so it opens nothing
      record({ id: 'y', k: 'a', t: T0 + 20_000 }, 3),
    ];
    const inMemory = await bounded(p, records);
    const lambda = await stack(
      p,
      records.map((r) => [r]),
    );
    // Two sessions, [T0, T0+15s) and [T0+20s, T0+35s), one record each; x's copy counted as a duplicate.
    expect(lambda).toEqual({
      rows: [
        { k: 'a', n: 1 },
        { k: 'a', n: 1 },
      ],
      duplicates: 1,
    });
    expect(inMemory).toEqual(lambda);
  });
});
