import { z } from 'zod';
import { count, pipeline, session, sum, tumbling, type Duration } from '../../../../functions/core/dsl';
import { drainWatermark, isDrainBound } from '../../../../functions/core/state/drain';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import { checkUpgrade } from '../../../../functions/core/state/upgradeCheck';
import { processor, records, rows, views } from '../../../helpers/stateShapeContract';

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

/** `views` with another allowed lateness (not part of the state shape). */
function lateViews(name: string, allowedLateness: Duration): StatefulPipeline {
  const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });
  return pipeline(name)
    .source({ stream: 'views', shards: 1 })
    .clean({ schema: View, eventTime: (v) => v.ts })
    .keyBy((v) => v.user, 'user')
    .window(tumbling('1m'), { allowedLateness, maxOutOfOrderness: '0s', idleTimeout: '1h' })
    .aggregate({ n: sum((v) => v.ms) })
    .sink({ table: 'views_by_user' }) as unknown as StatefulPipeline;
}

/** Records 1..6 committed under `{ n: count() }` (window T0 open), then the open windows drained. */
async function drained(atLeast?: number) {
  const store = new InMemoryStateStore();
  const objects = new InMemoryObjectStore();
  const before = processor(store, objects, views('p', { n: count() }));
  await before.apply(records(1, 6));
  expect(rows(objects)).toEqual([]);
  const result = await before.drain(atLeast);
  return { store, objects, result, before };
}

describe('drain', () => {
  test('when windows are open, the drain emits each under the deployed definition once, and leaves none open', async () => {
    const { store, objects, result } = await drained();
    expect(result).toEqual({ drainedThrough: T0 + MINUTE, windowsEmitted: 1 });
    expect(rows(objects)).toEqual([
      { user: 'u0', window_start: T0, window_end: T0 + MINUTE, n: 3, evolved_columns: null },
      { user: 'u1', window_start: T0, window_end: T0 + MINUTE, n: 3, evolved_columns: null },
    ]);
    const next = views('p', { n: sum((v) => v.ms) });
    expect(checkUpgrade(await store.readProgress('p'), next as never).openWindows).toBe(0);
  });

  test('when a drain is run again, it emits nothing more and the drained objects keep their rows', async () => {
    const { objects, before } = await drained();
    const first = rows(objects);
    expect(await before.drain()).toEqual({ drainedThrough: null, windowsEmitted: 0 });
    expect(rows(objects)).toEqual(first);
  });

  test('when nothing is open, the drain does nothing', async () => {
    const store = new InMemoryStateStore();
    const objects = new InMemoryObjectStore();
    expect(await processor(store, objects, views('p', { n: count() })).drain()).toEqual({
      drainedThrough: null,
      windowsEmitted: 0,
    });
    expect(objects.objects.size).toBe(0);
  });

  test('after the switch, the new definition aggregates records of later windows, and records of drained windows are late', async () => {
    const { store, objects } = await drained();
    const after = processor(store, objects, views('p', { n: sum((v) => v.ms) }));
    // 7 and 8 fall in the drained window T0; 9 and 10 (one minute later) in a window the new definition opens.
    const batch = await after.apply([...records(7, 8), ...records(9, 10, MINUTE)]);
    expect(batch.late).toBe(2);
    await after.tick(Infinity);
    expect(rows(objects)).toEqual([
      { user: 'u0', window_start: T0, window_end: T0 + MINUTE, n: 3, evolved_columns: null },
      { user: 'u1', window_start: T0, window_end: T0 + MINUTE, n: 3, evolved_columns: null },
      { user: 'u0', window_start: T0 + MINUTE, window_end: T0 + 2 * MINUTE, n: 10, evolved_columns: null },
      { user: 'u1', window_start: T0 + MINUTE, window_end: T0 + 2 * MINUTE, n: 9, evolved_columns: null },
    ]);
    expect([...objects.objects.keys()].filter((k) => k.startsWith('late/'))).toHaveLength(1);
  });

  test('when the new definition allows more lateness, drained windows stay closed and later ones open and close as usual', async () => {
    const next = lateViews('p', '5m');
    // As the CLI drains: through the deployed definition's own watermark (no atLeast).
    const { store, objects, result } = await drained();
    expect(result.drainedThrough).toBe(T0 + MINUTE);
    const after = processor(store, objects, next);
    // 7, 8: the drained window T0 (it would close at T0+6m under the new rule); shards' close marks keep
    // it closed, so nothing reopens or overwrites it.
    expect((await after.apply(records(7, 8))).late).toBe(2);
    // 9, 10: window T0+2m, which the deployed definition never had open: it closes at T0+8m under the new rule.
    expect((await after.apply(records(9, 10, 2 * MINUTE))).late).toBe(0);
    await after.tick(Infinity);
    expect(rows(objects).map((r) => [Number(r.window_start) - T0, r.user, r.n])).toEqual([
      [0, 'u0', 3],
      [0, 'u1', 3],
      [2 * MINUTE, 'u0', 10],
      [2 * MINUTE, 'u1', 9],
    ]);
  });

  test('when a shard the source declares has not reported, the drain refuses to mark windows emitted; given the open shards, it drains', async () => {
    const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });
    const twoShards = pipeline('two')
      .source({ stream: 'views', shards: 2 })
      .clean({ schema: View, eventTime: (v) => v.ts })
      .keyBy((v) => v.user, 'user')
      .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1h' })
      .aggregate({ n: count() })
      .sink({ table: 'two_by_user' }) as unknown as StatefulPipeline;
    const store = new InMemoryStateStore();
    const objects = new InMemoryObjectStore();
    const p = processor(store, objects, twoShards);
    await p.apply(records(1, 6));
    await expect(p.drain()).rejects.toMatchObject({ code: 'STATE_CONTENTION' });
    expect(rows(objects)).toEqual([]);
    const result = await p.drain(undefined, {
      shardIds: ['shardId-000000000000', 'shardId-000000000001'],
    });
    expect(result).toEqual({ drainedThrough: T0 + MINUTE, windowsEmitted: 1 });
    expect(rows(objects).map((r) => [r.user, r.n])).toEqual([
      ['u0', 3],
      ['u1', 3],
    ]);
  });

  test('when session windows are open, the drain closes every session the shards hold', async () => {
    const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });
    const sessions = pipeline('s')
      .source({ stream: 'views', shards: 1 })
      .clean({ schema: View, eventTime: (v) => v.ts })
      .keyBy((v) => v.user, 'user')
      .window(session('30s'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1h' })
      .aggregate({ n: count() })
      .sink({ table: 'sessions_by_user' }) as unknown as StatefulPipeline;
    const store = new InMemoryStateStore();
    const objects = new InMemoryObjectStore();
    const p = processor(store, objects, sessions);
    await p.apply(records(1, 6));
    const snapshot = await store.readProgress('s');
    expect(drainWatermark(snapshot, sessions)).toBe(T0 + 6 + 60_000);
    const result = await p.drain();
    expect(result.windowsEmitted).toBeGreaterThan(0);
    expect(rows(objects).map((r) => [r.user, r.n])).toEqual([
      ['u0', 3],
      ['u1', 3],
    ]);
    expect(drainWatermark(await store.readProgress('s'), sessions)).toBeUndefined();
  });

  test.each([
    [1_700_000_000_000, true],
    [0, true],
    [-1, false],
    [1.5, false],
    [Number.POSITIVE_INFINITY, false],
    [Number.NaN, false],
    ['1700000000000', false],
    [null, false],
    [2 ** 60, false],
  ])('a drain bound %p is accepted: %p', (value, ok) => {
    expect(isDrainBound(value)).toBe(ok);
  });
});
