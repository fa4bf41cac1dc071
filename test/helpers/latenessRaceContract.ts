/**
 * The lateness-race contract, run over every state store (the in-memory one in the unit project, DynamoDB
 * Local in the integration one). A deploy that lengthens the allowed lateness runs old and new code side by side for a while: a close pass
 * under the old (shorter) lateness can emit a window while a commit under the new one still takes the window
 * for open. The shards' close marks in window ends (`closedEnd`, `closeableThrough.ts`) make every commit
 * honour what any pass may already have emitted: each record lands once, in the results or in late/.
 */
import { z } from 'zod';
import { count, pipeline, session, tumbling } from '../../functions/core/dsl';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { SessionCloser } from '../../functions/core/state/SessionCloser';
import { WindowCloser } from '../../functions/core/state/WindowCloser';
import type { ObjectStore, StatefulPipeline, StateStore } from '../../functions/core/state/types';
import type { RawRecord } from '../../functions/core/types';
import { jsonEncoder as encoder } from './jsonEncoder';
import { kinesisSequence } from './records';
import { flaky, held } from './gatedObjects';

const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
let counter = 0;
const uniqueName = (): string => `race-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;
const Click = z.object({ user: z.string(), t: z.number() });
const shardId = (shard: number): string => `shardId-00000000000${shard}`;

type Lateness = '0s' | '30s';

const record = (shard: number, seq: number, user: string, t: number): RawRecord => ({
  shardId: shardId(shard),
  sequenceNumber: kinesisSequence(seq),
  partitionKey: user,
  data: Buffer.from(JSON.stringify({ user, t })).toString('base64'),
  approximateArrivalTimestamp: t + 100_000,
});

type Windows = 'tumbling' | 'sessions';

/** The same pipeline under two allowed latenesses (a deploy changing it): one-minute or 30 s session windows. */
const definition = (name: string, lateness: Lateness, windows: Windows): StatefulPipeline =>
  pipeline(name)
    .source({ stream: 'clicks', shards: 2 })
    .clean({ schema: Click, eventTime: (c) => c.t })
    .keyBy((c) => c.user, 'user')
    .window(windows === 'tumbling' ? tumbling('1m') : session('30s'), {
      allowedLateness: lateness,
      maxOutOfOrderness: '0s',
      idleTimeout: '1h',
    })
    .aggregate({ clicks: count() })
    .sink({ table: 'lateness_race' }) as unknown as StatefulPipeline;

/** One test's pipeline (a fresh name), its state store and its objects. */
interface Run {
  readonly name: string;
  readonly store: StateStore;
  readonly objects: InMemoryObjectStore;
  readonly windows: Windows;
}

const processor = (run: Run, lateness: Lateness, objects: ObjectStore = run.objects): BatchProcessor =>
  new BatchProcessor({
    pipeline: definition(run.name, lateness, run.windows),
    store: run.store,
    objects,
    encoder,
    clock: { now: () => T0 + 600_000 },
  });

/** Every emitted row as `user@window start: clicks`, sorted. */
function rows(objects: InMemoryObjectStore): string[] {
  return [...objects.objects.keys()]
    .filter((k) => k.startsWith('results/'))
    .flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[])
    .map((r) => `${String(r.user)}@${Number(r.window_start) - T0}: ${String(r.clicks)}`)
    .sort();
}

/** The users of the records in late/. */
const late = (objects: InMemoryObjectStore): string[] =>
  objects
    .jsonLines<{ value: { user: string } }>('late/')
    .map((l) => l.value.user)
    .sort();

/**
 * Both shards at T0 + 70 s, window [T0, T0 + 60 s) holding ann and bob: due under 0 s of lateness (closes at
 * T0 + 60 s), open under 30 s (T0 + 90 s). Every pass so far died writing its results.
 */
async function stateDueUnderOldLateness(run: Run, lateness: Lateness = '0s'): Promise<void> {
  const down = flaky(run.objects, () => true);
  for (const r of [
    record(0, 1, 'ann', T0 + 1_000),
    record(1, 1, 'bob', T0 + 2_000),
    record(0, 2, 'x', T0 + 70_000),
    record(1, 2, 'x', T0 + 70_000),
    record(0, 3, 'x', T0 + 71_000),
  ])
    await processor(run, lateness, down)
      .apply([r])
      .catch(() => undefined);
}

/**
 * A pass under 0 s reads the window's partials and waits to write; meanwhile `racer` commits under 30 s; then
 * the pass finishes and the end of input emits the rest under 30 s.
 */
async function race(run: Run, racer: RawRecord): Promise<void> {
  const snapshot = await run.store.readProgress(run.name);
  expect(snapshot.shards.map((s) => s.frozen)).toEqual([T0 + 70_000, T0 + 70_000]);
  const gate = held(run.objects);
  const deps = {
    pipeline: definition(run.name, '0s', run.windows),
    store: run.store,
    objects: gate.store,
    encoder,
  };
  const slowPass =
    run.windows === 'tumbling'
      ? new WindowCloser(deps, { maxEmitPerPass: 100, concurrency: 1, expectedShards: 2 }).close(snapshot)
      : new SessionCloser(deps, { concurrency: 1, expectedShards: 2 }).close(snapshot);
  await gate.reached;
  await processor(run, '30s').apply([racer]);
  gate.release();
  expect(await slowPass).toBeGreaterThan(0);
  await processor(run, '30s').tick(Number.POSITIVE_INFINITY);
}

export function describeLatenessRaceContract(label: string, factory: () => Promise<StateStore>): void {
  describe(`${label}: a longer allowed lateness deployed while a pass under the old one runs`, () => {
    const start = async (windows: Windows = 'tumbling', lateness: Lateness = '0s'): Promise<Run> => {
      const run = { name: uniqueName(), store: await factory(), objects: new InMemoryObjectStore(), windows };
      await stateDueUnderOldLateness(run, lateness);
      return run;
    };

    it('when a commit under the longer lateness races a pass under the shorter one for a window the pass emits, its record goes to late/', async () => {
      const run = await start();
      await race(run, record(0, 4, 'carl', T0 + 30_000));
      expect(rows(run.objects)).toEqual(['ann@0: 1', 'bob@0: 1', 'x@60000: 3']);
      expect(late(run.objects)).toEqual(['carl']);
    });

    it('when a new shard commits first under the longer lateness while the pass runs, its record for the emitted window goes to late/', async () => {
      const run = await start();
      await race(run, record(2, 1, 'dora', T0 + 30_000));
      expect(rows(run.objects)).toEqual(['ann@0: 1', 'bob@0: 1', 'x@60000: 3']);
      expect(late(run.objects)).toEqual(['dora']);
    });

    it('when shard items predate closedEnd, the first tick of this version writes it, and a racing commit under a longer lateness is then late', async () => {
      const run = await start();
      // The shard items as a version before closedEnd wrote them.
      for (const shard of (await run.store.readProgress(run.name)).shards) {
        const { closedEnd: _dropped, ...legacy } = shard;
        await run.store.commit({
          progress: { ...legacy, version: shard.version + 1 },
          expectedVersion: shard.version,
        });
      }
      expect((await run.store.readProgress(run.name)).shards.map((s) => s.closedEnd)).toEqual([
        undefined,
        undefined,
      ]);
      // The tick (its close pass dies writing results, so the window stays unemitted).
      await processor(
        run,
        '0s',
        flaky(run.objects, () => true),
      )
        .tick()
        .catch(() => undefined);
      expect((await run.store.readProgress(run.name)).shards.map((s) => s.closedEnd)).toEqual([
        T0 + 70_000,
        T0 + 70_000,
      ]);
      await race(run, record(0, 4, 'carl', T0 + 30_000));
      expect(rows(run.objects)).toEqual(['ann@0: 1', 'bob@0: 1', 'x@60000: 3']);
      expect(late(run.objects)).toEqual(['carl']);
    });

    it('when the lateness is lengthened after a window closed under the shorter one, the shards keep it closed', async () => {
      const run = await start();
      // No pass emitted the window yet (all died): a commit under 30 s still finds it closed by the shards.
      await processor(run, '30s').apply([record(1, 3, 'eve', T0 + 40_000)]);
      await processor(run, '30s').tick(Number.POSITIVE_INFINITY);
      expect(rows(run.objects)).toEqual(['ann@0: 1', 'bob@0: 1', 'x@60000: 3']);
      expect(late(run.objects)).toEqual(['eve']);
    });

    it('when a commit under the longer lateness races a session pass under the shorter one, its record for an emitted session goes to late/, not into a second row', async () => {
      const run = await start('sessions');
      // ann's session [1 s, 31 s) closes at 61 s under 0 s, 91 s under 30 s; a click at 20 s would extend it.
      await race(run, record(0, 4, 'ann', T0 + 20_000));
      expect(rows(run.objects)).toEqual(['ann@1000: 1', 'bob@2000: 1', 'x@70000: 3']);
      expect(late(run.objects)).toEqual(['ann']);
    });

    it('when the lateness is shortened and no shard commits after the deploy, a tick closes what the shorter one allows', async () => {
      // Built under 30 s: the shards (at 70 s) closed windows ending through 40 s only.
      const run = await start('tumbling', '30s');
      expect(rows(run.objects)).toEqual([]);
      await processor(run, '0s').tick();
      expect(rows(run.objects)).toEqual(['ann@0: 1', 'bob@0: 1']);
    });
  });
}
