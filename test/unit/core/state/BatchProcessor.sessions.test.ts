/**
 * Session windows on the exactly-once path: fragments committed by batches of several shards are merged per
 * key when every shard's close mark passes the session's end plus the gap, and the rows equal the bounded
 * runner's (the reference semantics) whatever the batching, the shard interleaving and the redeliveries.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { count, max, pipeline, session, sum } from '../../../../functions/core/dsl';
import { runBounded } from '../../../../functions/core/runner/boundedRunner';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { mergeFragments } from '../../../../functions/core/state/SessionCloser';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import type { RawRecord, ResultRow } from '../../../../functions/core/types';
import { kinesisSequence } from '../../../helpers/records';
import { jsonEncoder } from '../../../helpers/jsonEncoder';

const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
const Click = z.object({ id: z.string(), user: z.string(), n: z.number(), t: z.number() });

const sessions = pipeline('sessions')
  .source({ stream: 'clicks', shards: 2 })
  .clean({ schema: Click, eventTime: (c) => c.t, dedupeBy: (c) => c.id })
  .keyBy((c) => c.user, 'user')
  .window(session('30s'), { allowedLateness: '1h', maxOutOfOrderness: '0s', idleTimeout: '1h' })
  .aggregate({ clicks: count(), total: sum((c) => c.n), top: max((c) => c.n) })
  .sink({ table: 'user_sessions' });

const SHARDS = ['shardId-000000000000', 'shardId-000000000001'];

function record(shard: number, seq: number, user: string, t: number, n = 1): RawRecord {
  return {
    shardId: SHARDS[shard]!,
    sequenceNumber: kinesisSequence(seq),
    partitionKey: user,
    data: Buffer.from(JSON.stringify({ id: `${shard}-${seq}`, user, n, t })).toString('base64'),
    approximateArrivalTimestamp: t,
  };
}

function rows(objects: InMemoryObjectStore): Record<string, unknown>[] {
  return [...objects.objects.keys()]
    .filter((k) => k.startsWith('results/'))
    .flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as Record<string, unknown>[])
    .sort((a, b) =>
      String(a.user) < String(b.user)
        ? -1
        : String(a.user) > String(b.user)
          ? 1
          : Number(a.window_start) - Number(b.window_start),
    );
}

async function reference(records: readonly RawRecord[]): Promise<Record<string, unknown>[]> {
  const { rows: expected } = await runBounded(sessions, records, { batchSize: 1_000_000, shards: SHARDS });
  return expected
    .map((row: ResultRow) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
    )
    .sort((a, b) =>
      String(a.user) < String(b.user)
        ? -1
        : String(a.user) > String(b.user)
          ? 1
          : Number(a.window_start) - Number(b.window_start),
    );
}

const instance = (tables: InMemoryStateTables, objects: InMemoryObjectStore): BatchProcessor =>
  new BatchProcessor({
    pipeline: sessions as unknown as StatefulPipeline,
    store: new InMemoryStateStore({ tables }),
    objects,
    encoder: jsonEncoder,
    clock: { now: () => T0 },
  });

describe('session windows on the exactly-once path', () => {
  it('when fragments of one session arrive on two shards and a later record bridges two sessions, each key has the merged sessions of the reference', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const input = [
      record(0, 1, 'ann', T0, 1),
      record(1, 1, 'ann', T0 + 20_000, 2), // joins ann's session from the other shard
      record(0, 2, 'bob', T0, 5),
      record(0, 3, 'bob', T0 + 50_000, 6), // a second bob session (20 s after the first one ends)…
      record(1, 2, 'bob', T0 + 25_000, 7), // …bridged with the first by this one
      record(1, 3, 'cid', T0 + 400_000, 1),
      record(0, 4, 'cid', T0 + 400_001, 1),
    ];
    await instance(tables, objects).apply(input.slice(0, 2));
    await instance(tables, objects).apply(input.slice(2, 4));
    await instance(tables, objects).apply(input.slice(4, 6));
    await instance(tables, objects).apply(input.slice(6));
    await instance(tables, objects).tick(Number.POSITIVE_INFINITY);
    expect(rows(objects)).toEqual(await reference(input));
    expect(rows(objects).map((r) => [r.user, r.clicks])).toEqual([
      ['ann', 2],
      ['bob', 3],
      ['cid', 2],
    ]);
  });

  it('when the watermark passes a session end plus the gap on every shard, it is emitted before the end of input, once', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const quick = pipeline('quick-sessions')
      .source({ stream: 'clicks', shards: 2 })
      .clean({ schema: Click, eventTime: (c) => c.t })
      .keyBy((c) => c.user, 'user')
      .window(session('30s'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1h' })
      .aggregate({ clicks: count() })
      .sink({ table: 'quick_sessions' });
    const p = () =>
      new BatchProcessor({
        pipeline: quick as unknown as StatefulPipeline,
        store: new InMemoryStateStore({ tables }),
        objects,
        encoder: jsonEncoder,
        clock: { now: () => T0 },
      });
    await p().apply([record(0, 1, 'ann', T0), record(0, 2, 'ann', T0 + 10_000)]);
    await p().apply([record(1, 1, 'bob', T0 + 5_000)]);
    // ann's session ends at T0 + 40 s and closes at T0 + 70 s: both shards pass it.
    await p().apply([record(0, 3, 'zed', T0 + 80_000)]);
    await p().apply([record(1, 2, 'zed', T0 + 80_000)]);
    await p().apply([record(0, 4, 'zed', T0 + 81_000)]);
    expect(rows(objects).map((r) => [r.user, r.window_start, r.window_end, r.clicks])).toEqual([
      ['ann', T0, T0 + 40_000, 2],
      ['bob', T0 + 5_000, T0 + 35_000, 1],
    ]);
    await p().tick(Number.POSITIVE_INFINITY);
    expect(rows(objects).map((r) => [r.user, r.clicks])).toEqual([
      ['ann', 2],
      ['bob', 1],
      ['zed', 3],
    ]);
    // A record that would have touched ann's emitted session is late, not a second row.
    expect((await p().apply([record(1, 3, 'ann', T0 + 30_000)])).late).toBe(1);
  });

  it('when batches are split, interleaved across shards and redelivered at random, the rows equal the reference', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            shard: fc.integer({ min: 0, max: 1 }),
            user: fc.constantFrom('a', 'b', 'c'),
            dt: fc.integer({ min: 0, max: 45_000 }),
            n: fc.integer({ min: 1, max: 9 }),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        async (events, sizes, redeliver) => {
          let t = T0;
          const seq = [0, 0];
          const perShard: RawRecord[][] = [[], []];
          for (const e of events) {
            t += e.dt;
            seq[e.shard]! += 1;
            perShard[e.shard]!.push(record(e.shard, seq[e.shard]!, e.user, t, e.n));
          }
          const tables = new InMemoryStateTables();
          const objects = new InMemoryObjectStore();
          const at = [0, 0];
          for (let step = 0; at[0]! < perShard[0]!.length || at[1]! < perShard[1]!.length; step++) {
            const shard = at[step % 2]! < perShard[step % 2]!.length ? step % 2 : 1 - (step % 2);
            const size = sizes[step % sizes.length]!;
            const batch = perShard[shard]!.slice(at[shard], at[shard]! + size);
            await instance(tables, objects).apply(batch);
            if (redeliver[step % redeliver.length]) await instance(tables, objects).apply(batch);
            at[shard]! += batch.length;
          }
          await instance(tables, objects).tick(Number.POSITIVE_INFINITY);
          expect(rows(objects)).toEqual(await reference([...perShard[0]!, ...perShard[1]!]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('when sessions close during the run (no lateness allowed) with ticks between batches, every record is in one row or late, and no two rows of a key touch', async () => {
    const strict = pipeline('strict-sessions')
      .source({ stream: 'clicks', shards: 2 })
      .clean({ schema: Click, eventTime: (c) => c.t })
      .keyBy((c) => c.user, 'user')
      .window(session('30s'), { allowedLateness: '0s', maxOutOfOrderness: '5s', idleTimeout: '1h' })
      .aggregate({ clicks: count() })
      .sink({ table: 'strict_sessions' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            shard: fc.integer({ min: 0, max: 1 }),
            user: fc.constantFrom('a', 'b'),
            dt: fc.integer({ min: -20_000, max: 40_000 }),
            tick: fc.boolean(),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 5 }),
        async (events, size) => {
          const tables = new InMemoryStateTables();
          const objects = new InMemoryObjectStore();
          const p = () =>
            new BatchProcessor({
              pipeline: strict as unknown as StatefulPipeline,
              store: new InMemoryStateStore({ tables }),
              objects,
              encoder: jsonEncoder,
              clock: { now: () => T0 },
            });
          let t = T0;
          const seq = [0, 0];
          let late = 0;
          for (let i = 0; i < events.length; i += size) {
            const chunk = events.slice(i, i + size);
            for (const shard of [0, 1]) {
              const batch = chunk
                .filter((e) => e.shard === shard)
                .map((e) => {
                  t = Math.max(T0, t + e.dt);
                  seq[shard]! += 1;
                  return record(shard, seq[shard]!, e.user, t);
                });
              if (batch.length > 0) late += (await p().apply(batch)).late;
            }
            if (chunk.some((e) => e.tick)) await p().tick();
          }
          await p().tick(Number.POSITIVE_INFINITY);
          const emitted = rows(objects);
          expect(emitted.reduce((n, r) => n + Number(r.clicks), 0) + late).toBe(events.length);
          for (let i = 1; i < emitted.length; i++) {
            const [a, b] = [emitted[i - 1]!, emitted[i]!];
            if (a.user === b.user) expect(Number(b.window_start)).toBeGreaterThan(Number(a.window_end));
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('when fragments overlap or touch, they merge transitively in start order; apart, they stay separate', () => {
    const f = (key: string, start: number, end: number, records = 1) => ({
      key,
      records,
      state: { n: records },
      session: { start, end },
    });
    const merged = mergeFragments(
      [f('k', 100, 200), f('k', 0, 50), f('k', 50, 100), f('k', 201, 300), f('j', 0, 10)],
      (a, b) => ({ n: (a.n as number) + (b.n as number) }),
    );
    expect(merged.map((s) => [s.key, s.window.start, s.window.end, s.records, s.state.n])).toEqual([
      ['k', 0, 200, 3, 3],
      ['k', 201, 300, 1, 1],
      ['j', 0, 10, 1, 1],
    ]);
  });
  it('when a pass that claimed a lower mark died, the end of input still emits every session (through that mark, then its own)', async () => {
    const tables = new InMemoryStateTables();
    const objects = new InMemoryObjectStore();
    const input = [
      record(0, 1, 'ann', T0),
      record(1, 1, 'bob', T0 + 5_000),
      record(0, 2, 'zed', T0 + 80_000),
      record(1, 2, 'zed', T0 + 81_000),
    ];
    for (const r of input) await instance(tables, objects).apply([r]);
    // A pass claimed the marks above no emitted end through T0 + 1 s, then died before writing anything.
    await new InMemoryStateStore({ tables }).raisePipeline('sessions', { closedWatermark: T0 + 1_000 });
    expect(await new InMemoryStateStore({ tables }).claimSessionPass('sessions', -Infinity, T0 + 1_000)).toBe(
      T0 + 1_000,
    );
    await instance(tables, objects).tick(Number.POSITIVE_INFINITY);
    expect(rows(objects)).toEqual(await reference(input));
    expect(rows(objects).map((r) => r.user)).toEqual(['ann', 'bob', 'zed']);
  });
});
