/**
 * The state-shape contract of the apply path (`state/stateShapeGuard.ts`), run over every state store (the
 * in-memory one in the unit project, DynamoDB Local in the integration one): a definition changed under open
 * windows merges what it can read — the same shape, or one it only added columns to (their rows say so) —
 * and a close pass refuses, with `INCOMPATIBLE_STATE`, state of a shape it cannot read or does not know.
 */
import { z } from 'zod';
import type { AnyColumnAggregate } from '../../functions/core/aggregates/columnAggregate';
import { count, pipeline, sum, topK, tumbling } from '../../functions/core/dsl';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { IncompatibleStateError } from '../../functions/core/state/errors';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { encodeSegment } from '../../functions/core/state/segmentCodec';
import type { StatefulPipeline, StateStore } from '../../functions/core/state/types';
import type { ResultRow } from '../../functions/core/types';
import { padSequence } from '../../functions/core/sequence';
import { commitWithSegment } from './stateStoreContract';
import { rawRecord } from './records';
import { jsonEncoder } from './jsonEncoder';

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const SHARD = 'shardId-000000000000';
const View = z.object({ user: z.string(), ms: z.number(), ts: z.number() });
type V = z.infer<typeof View>;

let counter = 0;
const uniqueName = (): string => `shape-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;

/** The same pipeline name with a changed definition: `keep` filters, `aggregates` aggregate. */
export function views(
  name: string,
  aggregates: Record<string, AnyColumnAggregate<V>>,
  keep: (v: V) => boolean = () => true,
): StatefulPipeline {
  return pipeline(name)
    .source({ stream: 'views', shards: 1 })
    .clean({ schema: View, eventTime: (v) => v.ts })
    .filter(keep)
    .keyBy((v) => v.user, 'user')
    .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1h' })
    .aggregate(aggregates)
    .sink({ table: 'views_by_user' }) as unknown as StatefulPipeline;
}

/** Records `from..to` (sequence numbers), user `u<n % 2>`, `ms = n`, at `T0 + offset + n` ms. */
export function records(from: number, to: number, offset = 0) {
  return Array.from({ length: to - from + 1 }, (_, i) => {
    const n = from + i;
    return rawRecord(
      { user: `u${n % 2}`, ms: n, ts: T0 + offset + n },
      { shardId: SHARD, sequenceNumber: n, approximateArrivalTimestamp: T0 + offset + n },
    );
  });
}

export function processor(
  store: StateStore,
  objects: InMemoryObjectStore,
  def: StatefulPipeline,
): BatchProcessor {
  return new BatchProcessor({
    pipeline: def,
    store,
    objects,
    encoder: jsonEncoder,
    clock: { now: () => T0 + 10 * MINUTE },
  });
}

export function rows(objects: InMemoryObjectStore): ResultRow[] {
  return [...objects.objects.entries()]
    .filter(([key]) => key.startsWith('results/'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([, o]) => JSON.parse(Buffer.from(o.body).toString('utf8')) as ResultRow[]);
}

/** What a refused close pass threw (the tick is not wrapped; a batch's close pass is, as its cause). */
async function refusal(run: Promise<unknown>): Promise<IncompatibleStateError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  let found: unknown = error;
  while (found !== undefined && !(found instanceof IncompatibleStateError))
    found = (found as { cause?: unknown }).cause;
  if (!(found instanceof IncompatibleStateError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return found;
}

export function describeStateShapeContract(name: string, factory: () => Promise<StateStore>): void {
  describe(`state shape contract: ${name}`, () => {
    test('when a compatible change (another filter) is deployed mid-window, the open window merges both definitions in one row', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      await processor(store, objects, views(pipe, { n: count() })).apply(records(1, 6));
      const next = processor(
        store,
        objects,
        views(pipe, { n: count() }, (v) => v.ms % 3 !== 0),
      );
      await next.apply(records(7, 12));
      await next.tick(Infinity);
      // Before the switch every record counts (u0: 2, 4, 6; u1: 1, 3, 5), after it multiples of 3 do not
      // (u0: 8, 10; u1: 7, 11).
      expect(rows(objects)).toEqual([
        { user: 'u0', window_start: T0, window_end: T0 + MINUTE, n: 5, evolved_columns: null },
        { user: 'u1', window_start: T0, window_end: T0 + MINUTE, n: 5, evolved_columns: null },
      ]);
    });

    test('when an evolvable change (an added column) is deployed mid-window, the new column starts from its identity and the row names it', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      await processor(store, objects, views(pipe, { n: count() })).apply(records(1, 4));
      const next = processor(store, objects, views(pipe, { n: count(), total: sum((v) => v.ms) }));
      await next.apply([...records(5, 6), ...records(7, 8, MINUTE)]);
      await next.tick(Infinity);
      expect(rows(objects)).toEqual([
        { user: 'u0', window_start: T0, window_end: T0 + MINUTE, n: 3, total: 6, evolved_columns: 'total' },
        { user: 'u1', window_start: T0, window_end: T0 + MINUTE, n: 3, total: 5, evolved_columns: 'total' },
        // A window opened after the switch saw every column from its start.
        {
          user: 'u0',
          window_start: T0 + MINUTE,
          window_end: T0 + 2 * MINUTE,
          n: 1,
          total: 8,
          evolved_columns: null,
        },
        {
          user: 'u1',
          window_start: T0 + MINUTE,
          window_end: T0 + 2 * MINUTE,
          n: 1,
          total: 7,
          evolved_columns: null,
        },
      ]);
    });

    test('when an incompatible change is deployed under an open window, the close pass refuses the old state (INCOMPATIBLE_STATE), emits nothing, and batches still apply', async () => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      const before = views(pipe, { n: count(), top: topK((v) => v.user, 3) });
      await processor(store, objects, before).apply(records(1, 4));
      const after = views(pipe, { n: count(), top: topK((v) => v.user, 10) });
      const next = processor(store, objects, after);
      const refused = await refusal(next.tick(Infinity));
      expect(refused.code).toBe('INCOMPATIBLE_STATE');
      expect(refused.message).toContain(
        'aggregate top (topK) changed its parameters from {"k":3} to {"k":10}',
      );
      expect(refused.message).toContain('shardflow deploy --discard-open-windows');
      expect(refused).toMatchObject({
        shardId: SHARD,
        commit: 1,
        storedFingerprint: before.stateFingerprint,
        expectedFingerprint: after.stateFingerprint,
      });
      expect(rows(objects)).toEqual([]);
      // The shard is not blocked: a batch commits (its close pass fails after the records are in).
      const batch = await next.apply(records(5, 6)).catch((e: unknown) => e);
      expect(batch).toMatchObject({ recordsApplied: true });
      const [shard] = (await store.readProgress(pipe)).shards;
      expect(shard!.lastSequence).toBe(padSequence('6'));
      expect(rows(objects)).toEqual([]);
    });

    test.each([
      ['a fingerprint nobody registered', { shape: 'ffffffffffffffff' }],
      ['no fingerprint (written before fingerprints were)', {}],
    ])('when a committed segment carries %s, a close pass never merges it', async (_what, extra) => {
      const store = await factory();
      const objects = new InMemoryObjectStore();
      const pipe = uniqueName();
      const def = views(pipe, { n: count() });
      const window = { start: T0, end: T0 + MINUTE };
      await commitWithSegment(
        store,
        {
          progress: {
            pipeline: pipe,
            shardId: SHARD,
            watermark: T0 + 10,
            maxEventTime: T0 + 10,
            lastSequence: padSequence('10'),
            lastActivity: T0,
            closed: false,
            frozen: -Infinity,
            commits: 1,
            pending: [{ ...window, firstCommit: 1, lastCommit: 1 }],
            version: 1,
          },
          expectedVersion: undefined,
          closedWatermarkRead: -Infinity,
        },
        {
          pipeline: pipe,
          shardId: SHARD,
          commit: 1,
          firstSequence: padSequence('1'),
          lastSequence: padSequence('10'),
          body: encodeSegment({
            windows: [{ window, partials: [{ key: 'u0', records: 10, state: { n: 10 } }] }],
            dedupeHashes: [],
          }),
          ttl: 2_000_000_000,
          ...extra,
        },
      );
      const refused = await refusal(processor(store, objects, def).tick(Infinity));
      expect(refused.code).toBe('INCOMPATIBLE_STATE');
      expect(refused.storedFingerprint).toBe((extra as { shape?: string }).shape);
      expect(rows(objects)).toEqual([]);
    });

    test('when a segment and its progress are committed, both read back with the fingerprint, and the shape is registered once', async () => {
      const store = await factory();
      const pipe = uniqueName();
      const def = views(pipe, { n: count() });
      const objects = new InMemoryObjectStore();
      await processor(store, objects, def).apply(records(1, 2));
      await processor(store, objects, def).apply(records(3, 4));
      const snapshot = await store.readProgress(pipe);
      expect(snapshot.shards.map((s) => s.shape)).toEqual([def.stateFingerprint]);
      expect([...(snapshot.shapes?.entries() ?? [])]).toEqual([[def.stateFingerprint, def.stateShape]]);
      const segments = await store.readSegments(snapshot.shards[0]!, 1, 2);
      expect(segments.map((s) => s.shape)).toEqual([def.stateFingerprint, def.stateFingerprint]);
    });
  });
}
