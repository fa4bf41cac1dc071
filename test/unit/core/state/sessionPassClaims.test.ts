/**
 * Session close passes that claim the emitted end they emit through (`StateStore.claimSessionPass`) under a
 * change of allowed lateness, a claim left by a dead pass, and a pipeline item written before `emittedEnd`
 * was kept: every session is emitted once, and no pass spins.
 */
import { z } from 'zod';
import { count, pipeline, session } from '../../../../functions/core/dsl';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { SessionCloser } from '../../../../functions/core/state/SessionCloser';
import type { ObjectStore, ProgressSnapshot, StatefulPipeline } from '../../../../functions/core/state/types';
import type { RawRecord } from '../../../../functions/core/types';
import { kinesisSequence } from '../../../helpers/records';
import { jsonEncoder as encoder } from '../../../helpers/jsonEncoder';
import { flaky, held } from '../../../helpers/gatedObjects';

const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
const NAME = 'claim-sessions';
const Click = z.object({ id: z.string(), user: z.string(), n: z.number(), t: z.number() });
const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];

/** The two allowed latenesses the tests deploy. */
type Lateness = '0s' | '10s';

const record = (shard: number, seq: number, user: string, t: number): RawRecord => ({
  shardId: SHARDS[shard]!,
  sequenceNumber: kinesisSequence(seq),
  partitionKey: user,
  data: Buffer.from(JSON.stringify({ id: `${shard}-${seq}`, user, n: 1, t })).toString('base64'),
  approximateArrivalTimestamp: t,
});

/** The same pipeline under two allowed latenesses (a deploy changing it). */
const definition = (lateness: Lateness): StatefulPipeline =>
  pipeline(NAME)
    .source({ stream: 'clicks', shards: 2 })
    .clean({ schema: Click, eventTime: (c) => c.t })
    .keyBy((c) => c.user, 'user')
    .window(session('30s'), { allowedLateness: lateness, maxOutOfOrderness: '0s', idleTimeout: '1h' })
    .aggregate({ clicks: count() })
    .sink({ table: 'claim_sessions' }) as unknown as StatefulPipeline;

function rows(objects: InMemoryObjectStore): [unknown, unknown][] {
  return [...objects.objects.keys()]
    .filter((k) => k.startsWith('results/'))
    .flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[])
    .map((r): [unknown, unknown] => [r.user, r.clicks])
    .sort();
}

/** A close pass of the pipeline under `lateness` over `tables`, writing to `objects`. */
const closer = (tables: InMemoryStateTables, lateness: Lateness, objects: ObjectStore): SessionCloser =>
  new SessionCloser(
    { pipeline: definition(lateness), store: new InMemoryStateStore({ tables }), objects, encoder },
    { concurrency: 1, expectedShards: 2 },
  );

/** A store over `tables` that fails once it has been asked to claim more than 50 times (a spinning close). */
function spinGuard(tables: InMemoryStateTables): { store: InMemoryStateStore; claims: () => number } {
  const store = new InMemoryStateStore({ tables });
  let claims = 0;
  const claim = store.claimSessionPass.bind(store);
  store.claimSessionPass = async (name, after, end) => {
    if (++claims > 50) throw new Error(`close() spun: ${claims} claims of ${after}`);
    return claim(name, after, end);
  };
  return { store, claims: () => claims };
}

const processor = (
  tables: InMemoryStateTables,
  objects: ObjectStore,
  lateness: Lateness,
  store = new InMemoryStateStore({ tables }),
): BatchProcessor =>
  new BatchProcessor({
    pipeline: definition(lateness),
    store,
    objects,
    encoder,
    clock: { now: () => T0 + 600_000 },
  });

/**
 * Two close passes racing: `slow` (its lateness and view) writes its objects only after `fast` has run to
 * its end, then the end-of-input tick emits what is left.
 */
async function raceSlowPass(
  tables: InMemoryStateTables,
  objects: InMemoryObjectStore,
  slow: readonly [Lateness, ProgressSnapshot],
  fast: readonly [Lateness, ProgressSnapshot],
): Promise<void> {
  const gate = held(objects);
  const slowPass = closer(tables, slow[0], gate.store).close(slow[1]);
  await closer(tables, fast[0], objects).close(fast[1]);
  gate.release();
  await slowPass;
  await processor(tables, objects, '0s').tick(Number.POSITIVE_INFINITY);
}

describe('session close passes and their claims', () => {
  it('when a close pass with an older view of the marks writes its objects after a pass that emitted more under the same names, every session is still emitted once', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    // While the state is built, every pass dies writing its results (after raising closedWatermark).
    let resultsDown = true;
    const apply = (batch: RawRecord[]) =>
      processor(
        tables,
        flaky(objects, () => resultsDown),
        '0s',
      )
        .apply(batch)
        .catch(() => undefined);
    // A shard's mark is the pipeline watermark (the lowest shard's event time) when it commits.
    const input = [
      record(0, 1, 'ann', T0),
      record(0, 2, 'ann', T0 + 10_000), // ann's session ends at T0 + 40 s and closes at T0 + 70 s
      record(1, 1, 'bob', T0 + 5_000), // bob's ends at T0 + 35 s and closes at T0 + 65 s
      record(0, 3, 'zed', T0 + 80_000),
      record(1, 2, 'zed', T0 + 66_000),
      record(0, 4, 'zed', T0 + 81_000),
      record(1, 3, 'zed', T0 + 80_000),
      record(0, 5, 'zed', T0 + 82_000),
    ];
    for (const r of input.slice(0, 6)) await apply([r]);
    // The older view: the shards' marks allow closing through T0 + 66 s, so bob is due and ann is not.
    const older = await new InMemoryStateStore({ tables }).readProgress(NAME);
    for (const r of input.slice(6)) await apply([r]);
    const newer = await new InMemoryStateStore({ tables }).readProgress(NAME);
    expect([older, newer].map((s) => Math.min(...s.shards.map((shard) => shard.frozen)))).toEqual([
      T0 + 66_000,
      T0 + 80_000,
    ]);
    resultsDown = false;
    // The slow pass (older view) writes only once the other pass has emitted ann and bob and raised its marks.
    await raceSlowPass(tables, objects, ['0s', older], ['0s', newer]);
    expect(rows(objects)).toEqual([
      ['ann', 2],
      ['bob', 1],
      ['zed', 5],
    ]);
  });

  it('when two passes of one emitted end run with different allowed lateness, every session is emitted', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    let resultsDown = true;
    const input = [
      record(0, 1, 'ann', T0), // ends T0 + 30 s: closes at T0 + 60 s (0 s lateness), T0 + 70 s (10 s)
      record(1, 1, 'bob', T0 + 15_000), // ends T0 + 45 s: closes at T0 + 75 s / T0 + 85 s
      record(0, 2, 'zed', T0 + 80_000),
      record(1, 2, 'zed', T0 + 80_000),
      record(0, 3, 'zed', T0 + 81_000),
      record(1, 3, 'zed', T0 + 81_000),
    ];
    for (const r of input)
      await processor(
        tables,
        flaky(objects, () => resultsDown),
        '0s',
      )
        .apply([r])
        .catch(() => undefined);
    const snapshot = await new InMemoryStateStore({ tables }).readProgress(NAME);
    resultsDown = false;
    // The pass under 10 s writes only after the pass under 0 s has emitted ann and bob and raised its marks.
    await raceSlowPass(tables, objects, ['10s', snapshot], ['0s', snapshot]);
    expect(rows(objects)).toEqual([
      ['ann', 1],
      ['bob', 1],
      ['zed', 4],
    ]);
  });

  it('when a pass under the old lateness claimed and died, passes after a deploy that lengthens it neither spin nor stall', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    for (const r of [
      record(0, 1, 'ann', T0),
      record(1, 1, 'ann', T0 + 1_000),
      record(0, 2, 'x', T0 + 61_000),
      record(1, 2, 'x', T0 + 61_000),
    ])
      await processor(tables, objects, '0s').apply([r]);
    await processor(tables, objects, '0s').tick();
    const emittedEnd = (await new InMemoryStateStore({ tables }).readProgress(NAME)).pipeline!.emittedEnd!;
    // A pass under 0 s claims the next emitted end 1 s further, then dies.
    const other = new InMemoryStateStore({ tables });
    await other.raisePipeline(NAME, { closedWatermark: emittedEnd + 1_000 });
    expect(await other.claimSessionPass(NAME, emittedEnd, emittedEnd + 1_000)).toBe(emittedEnd + 1_000);
    const guard = spinGuard(tables);
    for (const r of [
      record(0, 3, 'bob', T0 + 100_000),
      record(1, 3, 'bob', T0 + 100_000),
      record(0, 4, 'y', T0 + 300_000),
      record(1, 4, 'y', T0 + 300_000),
    ])
      await processor(tables, objects, '10s').apply([r]);
    await processor(tables, objects, '10s', guard.store).tick();
    expect(guard.claims()).toBeLessThan(10);
    expect(rows(objects)).toContainEqual(['bob', 2]);
  });

  it('when the pipeline item predates emittedEnd and a pass under another lateness claimed and died, a pass does not spin', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    for (const r of [
      record(0, 1, 'ann', T0 + 100_000),
      record(1, 1, 'bob', T0 + 100_000),
      record(0, 2, 'x', T0 + 300_000),
      record(1, 2, 'x', T0 + 300_000),
    ])
      await processor(
        tables,
        flaky(objects, () => true),
        '10s',
      )
        .apply([r])
        .catch(() => undefined);
    // The marks of an item written before emittedEnd was kept: emittedThrough only.
    const other = new InMemoryStateStore({ tables });
    await other.raisePipeline(NAME, { emittedThrough: T0 + 50_000 });
    // Under 0 s lateness its emitted end is T0 + 50 s (under 10 s, T0 + 40 s): that pass claims and dies.
    expect(await other.claimSessionPass(NAME, T0 + 50_000, T0 + 60_000)).toBe(T0 + 60_000);
    const guard = spinGuard(tables);
    await processor(tables, objects, '10s', guard.store).tick();
    expect(guard.claims()).toBeLessThan(10);
  });
});
