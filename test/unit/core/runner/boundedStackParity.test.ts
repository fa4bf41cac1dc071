/**
 * Parity of `runBounded` (what `shardflow run --in-memory` prints) with the stack's apply + tick path
 * (`BatchProcessor` over an `InMemoryStateStore`, driven as the operator and tick Lambdas drive it) over
 * hostile input: several shards, out-of-order and far past/future event times, producer duplicates, bad JSON,
 * schema violations, keys with unicode/control characters and empty keys, flatMap fan-out, `.toStream()`.
 *
 * 1. Same delivery: the stack gets runBounded's batches, each shard's records of a batch as its own invocation
 *    (Lambda never mixes shards), its clock moving on between invocations; rows, rejected, late, duplicates and
 *    published must be equal.
 * 2. Any delivery, when nothing can be late (the input's event-time span is inside the allowed lateness): any
 *    per-shard batch split and shard interleaving gives runBounded's rows, counts and published records.
 * 3. Two stages: stage 1's published records feed stage 2 the same way on both sides (the CLI's `runInMemory` chain
 *    against two BatchProcessors, stage 2 reading what stage 1 published, routed by the MD5 of the partition key).
 *
 * Ids name one payload here (exact copies) unless PARITY_SAME_ID_OTHER_PAYLOAD=1, which also gives one id two
 * payloads (other keys, other times: boundedStackDedupeBatching.test.ts pins those cases). PARITY_RUNS sets the
 * runs, PARITY_STATS=1 prints what the runs covered.
 */
import fc from 'fast-check';
import { z } from 'zod';
import {
  count,
  distinctCount,
  max,
  min,
  pipeline,
  session,
  sliding,
  sum,
  tumbling,
} from '../../../../functions/core/dsl';
import type { Duration } from '../../../../functions/core/duration';
import type { CompiledPipeline } from '../../../../functions/core/engine/CompiledPipeline';
import type { PublishEntry } from '../../../../functions/core/engine/streamTap';
import { runBounded, type BoundedRunResult } from '../../../../functions/core/runner/boundedRunner';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { LateRecord, RawRecord, Rejection, WindowSpec } from '../../../../functions/core/types';
import { runInMemory, timestampText } from '../../../../localstack/start/boundedRun';
import { shardIdOf, shardIndexOf } from '../../../../localstack/start/shardRouting';
import { jsonEncoder } from '../../../helpers/jsonEncoder';

const T0 = Date.UTC(2026, 5, 1, 12);
const ARRIVAL = T0 + 25 * 60_000;

const Ev = z.object({
  id: z.string(),
  k: z.string(),
  v: z.number().int(),
  t: z.number(),
  n: z.number().int().min(0).max(3),
});
type Ev = z.infer<typeof Ev>;

interface Shape {
  readonly window: WindowSpec;
  readonly dedupe: boolean;
  readonly fanOut: boolean;
  /** `.toStream()` of every value before keyBy. */
  readonly tap: boolean;
  /** `.sink({ toStream })`: result rows published. */
  readonly results: boolean;
  readonly lateness: Duration;
  readonly ooo: Duration;
  /** `source({ shards })`. */
  readonly declaredShards: number | undefined;
  /** Ends at `.toStream()` (with `tap`): no window, no rows, only published records. */
  readonly publishOnly?: boolean;
}

function build(s: Shape): CompiledPipeline<unknown> {
  const cleaned = pipeline('parity')
    .source({ stream: 'in', ...(s.declaredShards === undefined ? {} : { shards: s.declaredShards }) })
    .clean({ schema: Ev, eventTime: (e) => e.t, ...(s.dedupe ? { dedupeBy: (e: Ev) => e.id } : {}) });
  const fanned = s.fanOut
    ? cleaned.flatMap((e) =>
        Array.from({ length: e.n }, (_, i) => ({ ...e, v: e.v + i, k: i === 2 ? `${e.k}/${i}` : e.k })),
      )
    : cleaned;
  if (s.tap && s.publishOnly === true)
    return fanned.toStream('tap', {
      partitionKey: (e) => (e.k === '' ? '∅' : e.k.slice(0, 200)),
      idleTimeout: '7d',
    }) as unknown as CompiledPipeline<unknown>;
  const keyed = s.tap
    ? fanned
        .toStream('tap', { partitionKey: (e) => (e.k === '' ? '∅' : e.k.slice(0, 200)) })
        .keyBy((e) => e.k, 'k')
    : fanned.keyBy((e) => e.k, 'k');
  return keyed
    .window(s.window, { allowedLateness: s.lateness, maxOutOfOrderness: s.ooo, idleTimeout: '7d' })
    .aggregate({
      n: count(),
      big: count((e) => e.v > 50),
      total: sum((e) => e.v),
      lo: min((e) => e.v),
      hi: max((e) => e.v),
      ids: distinctCount((e) => e.id),
    })
    .sink({
      table: 'parity_t',
      ...(s.results ? { toStream: 'parity-rows' } : {}),
    }) as unknown as CompiledPipeline<unknown>;
}

// ---------------------------------------------------------------------------------------------------------
// Input generation

const KEYS = ['a', 'b', '', 'é', '\u0000', '\u0007x', 'Z\n', '😀', '\u202e', 'a\u0301', '\ufeff', ' '];

type Payload = { readonly kind: 'event'; readonly e: Ev } | { readonly kind: 'text'; readonly text: string };

interface Item {
  readonly shard: number;
  readonly payload: Payload;
  /** Arrival offset from ARRIVAL (kept non-decreasing per shard when the record is built). */
  readonly arrivalStep: number;
  /** Copies sent (a producer retry: same payload, new sequence number). */
  readonly copies: number;
}

const eventTimeArb = (span: number, hostile: boolean) =>
  hostile
    ? fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: -span, max: span }).map((d) => T0 + d) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(Date.UTC(1999, 11, 31), 0, -1, 1e15, Number.MAX_SAFE_INTEGER),
        },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 48 * 3_600_000 }).map((d) => ARRIVAL + d) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 * 86_400_000 }).map((d) => T0 - d) },
        { weight: 1, arbitrary: fc.constantFrom(ARRIVAL + 300_000, ARRIVAL + 300_001, ARRIVAL + 299_999) },
      )
    : fc.integer({ min: -span, max: span }).map((d) => T0 + d);

const SAME_ID_OTHER_PAYLOAD = process.env['PARITY_SAME_ID_OTHER_PAYLOAD'] === '1';
const eventArb = (span: number, hostile: boolean) =>
  fc
    .record({
      id: fc.oneof(
        fc.integer({ min: 0, max: 12 }).map((i) => `id-${i}`),
        fc.constantFrom('', 'x\u0000y', 'é', 'sha256:00'),
      ),
      k: fc.constantFrom(...KEYS),
      v: fc.integer({ min: -100, max: 100 }),
      t: eventTimeArb(span, hostile),
      n: fc.integer({ min: 0, max: 3 }),
    })
    // Without SAME_ID_OTHER_PAYLOAD, an id names one payload (copies are exact): dedupeBy within a batch works per
    // (key, window), across batches per shard by id alone (boundedStackDedupeBatching.test.ts), so two payloads under
    // one id give rows that depend on batch boundaries.
    .map((e) => (SAME_ID_OTHER_PAYLOAD ? e : { ...e, id: `${e.id}|${e.k}|${e.t}|${e.v}|${e.n}` }));

const badTexts = fc.constantFrom(
  '',
  '{',
  'null',
  '[]',
  '"x"',
  '{"id":"a","k":"a","v":1.5,"t":1,"n":1}',
  '{"id":"a","k":"a","v":1,"t":"now","n":1}',
  '{"__proto__":{"x":1},"id":"a","k":"a","v":1,"t":1,"n":1}',
  '\ud800',
  '{"id":"a","k":"\\ud800","v":1,"t":1780315200000,"n":1}',
);

const itemsArb = (
  shards: number,
  span: number,
  hostile: boolean,
  badPayloads = hostile,
  maxLength = 40,
  minLength = 0,
) =>
  fc.array(
    fc.record({
      shard: fc.integer({ min: 0, max: shards - 1 }),
      payload: badPayloads
        ? fc.oneof(
            { weight: 8, arbitrary: eventArb(span, hostile).map((e) => ({ kind: 'event' as const, e })) },
            { weight: 1, arbitrary: badTexts.map((text) => ({ kind: 'text' as const, text })) },
          )
        : eventArb(span, hostile).map((e) => ({ kind: 'event' as const, e })),
      arrivalStep: fc.integer({ min: 0, max: 3 }),
      copies: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
    }),
    { minLength, maxLength },
  );

const shardName = (i: number) => `shardId-00000000000${i}`;

/** The records, in global order, with per-shard increasing sequence numbers and arrival times. */
function toRecords(items: readonly Item[]): RawRecord[] {
  const seq = new Map<number, number>();
  const arrival = new Map<number, number>();
  const out: RawRecord[] = [];
  for (const item of items) {
    for (let c = 0; c < item.copies; c++) {
      const n = (seq.get(item.shard) ?? 0) + 1;
      seq.set(item.shard, n);
      const a = (arrival.get(item.shard) ?? ARRIVAL) + item.arrivalStep * 1_000;
      arrival.set(item.shard, a);
      const text = item.payload.kind === 'event' ? JSON.stringify(item.payload.e) : item.payload.text;
      out.push({
        shardId: shardName(item.shard),
        sequenceNumber: `49590338271490256608559692538361571095921575989136${String(n).padStart(6, '0')}`,
        partitionKey: `pk-${n}`,
        data: Buffer.from(text, 'utf8').toString('base64'),
        approximateArrivalTimestamp: a,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The stack side

interface Outcome {
  readonly rows: unknown[];
  readonly rejected: unknown[];
  readonly late: unknown[];
  readonly duplicates: number;
  readonly published: PublishEntry[];
}

const plain = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x))) as unknown;

const keyOf = (r: { shardId: string; sequenceNumber: string; subSequenceNumber?: number }) =>
  `${r.shardId}/${r.sequenceNumber.padStart(64, '0')}/${r.subSequenceNumber ?? 0}`;

function bySeq<T extends { shardId: string; sequenceNumber: string }>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

function rowOrder(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function fromBounded(r: BoundedRunResult): Outcome {
  return {
    rows: (plain(r.rows) as unknown[]).sort(rowOrder),
    rejected: bySeq(r.rejected).map((x: Rejection) => plain(x)),
    late: bySeq(r.late).map((x: LateRecord) => plain(x)),
    duplicates: r.duplicates,
    published: r.published,
  };
}

/**
 * The stack: one `BatchProcessor` (the operator; the tick Lambda shares its stores), each invocation one
 * shard's records, the clock moving `step` ms per invocation; at the end of input one tick at +∞.
 */
async function stackRun(
  p: CompiledPipeline<unknown>,
  invocations: readonly (readonly RawRecord[])[],
  opts: { readonly shards?: readonly string[]; readonly step: number },
): Promise<Outcome> {
  const objects = new InMemoryObjectStore();
  const published: PublishEntry[] = [];
  let now = ARRIVAL;
  const capture = (stream: string) => ({
    stream,
    publish: async (entries: readonly PublishEntry[]) => void published.push(...entries),
  });
  const processor = new BatchProcessor({
    pipeline: p,
    store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
    objects,
    encoder: jsonEncoder,
    clock: { now: () => now },
    ...(p.spec.publish === undefined ? {} : { publisher: capture(p.spec.publish.stream) }),
    ...(p.spec.sink?.toStream === undefined ? {} : { resultPublisher: capture(p.spec.sink.toStream) }),
  });
  if (opts.shards !== undefined) await processor.tick(undefined, { shardIds: opts.shards });
  let duplicates = 0;
  for (const batch of invocations) {
    if (batch.length === 0) continue;
    now += opts.step;
    duplicates += (await processor.apply(batch)).duplicateEvents;
  }
  now += opts.step;
  await processor.tick(Number.POSITIVE_INFINITY);
  const rows = [...objects.objects.keys()]
    .filter((key) => key.startsWith('results/'))
    .flatMap((key) => JSON.parse(objects.text(key)!) as unknown[]);
  return {
    rows: (plain(rows) as unknown[]).sort(rowOrder),
    rejected: bySeq(objects.jsonLines<Rejection>('rejected/')).map((x) => plain(x)),
    late: bySeq(objects.jsonLines<LateRecord>('late/')).map((x) => plain(x)),
    duplicates,
    published,
  };
}

/**
 * runBounded's batches as Lambda delivers them: each shard's records of a batch, one invocation per shard, one
 * after the other. With `concurrent`, a batch's shards are applied in one `apply` (no close pass between them):
 * invocations of several shards running at once, each committing before the others' close passes. A shard's first
 * commit lands before another's close pass only then, so without its shards registered up front runBounded (which
 * applies a batch's shards before closing) matches the concurrent delivery, not the sequential one: a sequential
 * stack finds windows the first shard closed and sends the new shard's records for them to late/.
 */
function asInvocations(records: readonly RawRecord[], batchSize: number, concurrent: boolean): RawRecord[][] {
  const out: RawRecord[][] = [];
  for (let i = 0; i < records.length; i += batchSize) {
    const batch = records.slice(i, i + batchSize);
    if (concurrent) {
      out.push(batch);
      continue;
    }
    const groups = new Map<string, RawRecord[]>();
    for (const r of batch) groups.set(r.shardId, [...(groups.get(r.shardId) ?? []), r]);
    out.push(...groups.values());
  }
  return out;
}

const sortedPublished = (xs: readonly PublishEntry[]) =>
  [...xs].sort((a, b) => rowOrder([a.partitionKey, a.data], [b.partitionKey, b.data]));

const distinctPublished = (xs: readonly PublishEntry[]) =>
  [...new Set(xs.map((x) => JSON.stringify([x.partitionKey, x.data])))].sort();

const windowKinds: [string, WindowSpec][] = [
  ['tumbling', tumbling('1m')],
  ['sliding', sliding('1m', '20s')],
  ['session', session('15s')],
];

const shapeArb = (window: WindowSpec, lateness: fc.Arbitrary<Duration>) =>
  fc
    .record({
      window: fc.constant(window),
      dedupe: fc.boolean(),
      fanOut: fc.boolean(),
      tap: fc.boolean(),
      results: fc.boolean(),
      publishOnly: fc.boolean(),
    })
    .map((x) => ({ ...x, results: x.results && !x.tap, publishOnly: x.publishOnly && x.tap }))
    .chain((x) =>
      fc
        .record({
          lateness,
          ooo: fc.constantFrom('0s', '5s', '1m'),
          declaredShards: fc.constantFrom(undefined, 1, 2, 3),
        })
        .map((y) => ({ ...x, ...y })),
    );

/** What the runs covered (printed with PARITY_STATS=1). */
const seen = {
  runs: 0,
  rows: 0,
  rejected: 0,
  late: 0,
  duplicates: 0,
  published: 0,
  withLate: 0,
  withRows: 0,
};
function tally(o: Outcome): void {
  seen.runs++;
  seen.rows += o.rows.length;
  seen.rejected += o.rejected.length;
  seen.late += o.late.length;
  seen.duplicates += o.duplicates;
  seen.published += o.published.length;
  if (o.late.length > 0) seen.withLate++;
  if (o.rows.length > 0) seen.withRows++;
}
afterEach(() => {
  if (process.env['PARITY_STATS'] === '1')
    console.log(expect.getState().currentTestName, JSON.stringify(seen));
  for (const k of Object.keys(seen) as (keyof typeof seen)[]) seen[k] = 0;
});

const NUM_RUNS = Number(process.env['PARITY_RUNS'] ?? 100);

describe('runBounded and the stack print the same for the same input', () => {
  it.each(windowKinds)(
    '%s: same delivery (runBounded batches as per-shard invocations), hostile input',
    async (_name, window) => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb(window, fc.constantFrom('0s', '10s', '2m')),
          fc
            .integer({ min: 1, max: 3 })
            .chain((shards) => fc.tuple(fc.constant(shards), itemsArb(shards, 20 * 60_000, true))),
          fc.integer({ min: 1, max: 12 }),
          fc.boolean(),
          fc.constantFrom(0, 1_000, 17 * 60_000),
          async (shape, [shards, items], batchSize, register, step) => {
            const p = build(shape);
            const records = toRecords(items);
            const shardIds = register ? Array.from({ length: shards }, (_, i) => shardName(i)) : undefined;
            const bounded = fromBounded(
              await runBounded(p, records, { batchSize, ...(shardIds ? { shards: shardIds } : {}) }),
            );
            const stack = await stackRun(p, asInvocations(records, batchSize, !register), {
              ...(shardIds ? { shards: shardIds } : {}),
              step,
            });
            tally(bounded);
            expect(stack.rows).toEqual(bounded.rows);
            expect(stack.rejected).toEqual(bounded.rejected);
            expect(stack.late).toEqual(bounded.late);
            expect(stack.duplicates).toBe(bounded.duplicates);
            expect(sortedPublished(stack.published)).toEqual(sortedPublished(bounded.published));
          },
        ),
        { numRuns: NUM_RUNS },
      );
    },
    240_000,
  );

  it.each(windowKinds)(
    '%s: any batch split and shard interleaving, when nothing can be late',
    async (_name, window) => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb(window, fc.constant('1d')),
          fc
            .integer({ min: 1, max: 3 })
            .chain((shards) => fc.tuple(fc.constant(shards), itemsArb(shards, 30 * 60_000, false, true))),
          fc.integer({ min: 1, max: 12 }),
          fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 30 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
          fc.boolean(),
          fc.array(fc.constantFrom('no', 'no', 'no', 'whole', 'tail', 'head'), {
            minLength: 1,
            maxLength: 20,
          }),
          fc.constantFrom(1_000, 17 * 60_000),
          async (shape, [shards, items], batchSize, splits, picks, register, redeliver, step) => {
            const p = build(shape);
            const records = toRecords(items);
            const shardIds = register ? Array.from({ length: shards }, (_, i) => shardName(i)) : undefined;
            const bounded = fromBounded(
              await runBounded(p, records, { batchSize, ...(shardIds ? { shards: shardIds } : {}) }),
            );
            // Per shard, the records cut into batches of the given sizes; batches of shards interleaved by picks.
            const perShard = new Map<string, RawRecord[][]>();
            let cut = 0;
            for (const r of records) {
              const list = perShard.get(r.shardId) ?? [];
              perShard.set(r.shardId, list);
              const last = list[list.length - 1];
              if (last === undefined || last.length >= splits[cut % splits.length]!) {
                list.push([r]);
                cut++;
              } else last.push(r);
            }
            const queues = [...perShard.values()];
            const invocations: RawRecord[][] = [];
            let k = 0;
            while (queues.some((q) => q.length > 0)) {
              const open = queues.filter((q) => q.length > 0);
              const batch = open[picks[k % picks.length]! % open.length]!.shift()!;
              invocations.push(batch);
              // At least once: Lambda delivers a committed batch again (a timeout after the commit), its tail (after
              // a reported item failure) or a bisected half.
              const again = redeliver[k++ % redeliver.length]!;
              const half = Math.ceil(batch.length / 2);
              if (again === 'whole') invocations.push(batch);
              if (again === 'tail') invocations.push(batch.slice(half - 1));
              if (again === 'head') invocations.push(batch.slice(0, half));
            }
            const stack = await stackRun(p, invocations, { ...(shardIds ? { shards: shardIds } : {}), step });
            tally(bounded);
            expect(stack.late).toEqual([]);
            expect(stack.rows).toEqual(bounded.rows);
            expect(stack.rejected).toEqual(bounded.rejected);
            expect(stack.late).toEqual(bounded.late);
            expect(stack.duplicates).toBe(bounded.duplicates);
            // A redelivered batch publishes its committed records again (at least once), under the same ids.
            expect(distinctPublished(stack.published)).toEqual(distinctPublished(bounded.published));
            if (!redeliver.some((r) => r !== 'no'))
              expect(sortedPublished(stack.published)).toEqual(sortedPublished(bounded.published));
          },
        ),
        { numRuns: NUM_RUNS },
      );
    },
    240_000,
  );

  /** Stage 2: reads stage 1's envelopes (`{ id, time, value }`), counts each id once. */
  const Envelope = z.object({ id: z.string(), time: z.number(), value: z.record(z.string(), z.unknown()) });
  const stage2 = (window: WindowSpec, shards: number) =>
    pipeline('parity-2')
      .source({ stream: 'tap', shards })
      .clean({ schema: Envelope, eventTime: (r) => r.time, dedupeBy: (r) => r.id })
      .keyBy((r) => String(r.value['k'] ?? '') || '∅', 'k2')
      .window(window, { allowedLateness: '10s', maxOutOfOrderness: '5s', idleTimeout: '7d' })
      .aggregate({ n: count(), ids: distinctCount((r) => r.id) })
      .sink({ table: 'parity_2' }) as unknown as CompiledPipeline<unknown>;

  it.each(windowKinds)(
    '%s: two stages (stage 1 publishes with .toStream() or .sink({ toStream })), as `shardflow run --in-memory` chains them',
    async (_name, window) => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb(window, fc.constantFrom('0s', '10s', '2m')).map((x) => ({
            ...x,
            results: !x.tap,
            declaredShards: 2,
          })),
          itemsArb(2, 20 * 60_000, true, true, 260, 90),
          fc.integer({ min: 1, max: 3 }),
          fc.constantFrom(0, 17 * 60_000),
          async (shape, items, shards2, step) => {
            const p1 = build(shape);
            const p2 = stage2(window, shards2);
            // What the CLI does: records routed by the MD5 of their partition key, batches of 100, shards registered.
            const inputs = items
              .flatMap((item) => Array.from({ length: item.copies }, () => item))
              .map((item) => ({
                partitionKey: `pk-${item.shard}-${JSON.stringify(item.payload).length}`,
                data: item.payload.kind === 'event' ? JSON.stringify(item.payload.e) : item.payload.text,
              }));
            const first = await runInMemory(p1, inputs, ARRIVAL);
            const second = await runInMemory(p2, first.published, ARRIVAL);
            // The stack: the same records on the same shards, each shard's records of a 100-record run of the input
            // one invocation; stage 2 reads what stage 1 published, in the order it published it.
            const route = (entries: readonly { partitionKey: string; data: string }[], n: number) => {
              const seq = Array.from({ length: n }, () => 0);
              return entries.map((e): RawRecord => {
                const i = shardIndexOf(e.partitionKey, n);
                return {
                  shardId: shardIdOf(i),
                  sequenceNumber: String((seq[i] = seq[i]! + 1)),
                  partitionKey: e.partitionKey,
                  data: Buffer.from(e.data, 'utf8').toString('base64'),
                  approximateArrivalTimestamp: ARRIVAL,
                };
              });
            };
            const ids = (n: number) => Array.from({ length: n }, (_, i) => shardIdOf(i));
            const s1 = await stackRun(p1, asInvocations(route(inputs, 2), 100, false), {
              shards: ids(2),
              step,
            });
            const s2 = await stackRun(p2, asInvocations(route(s1.published, shards2), 100, false), {
              shards: ids(shards2),
              step,
            });
            // Rows as the CLI prints them (cells in column order, timestamps as DuckDB text), in one order.
            const cells = (o: Outcome, p: CompiledPipeline<unknown>) =>
              (o.rows as Record<string, unknown>[])
                .map((row) =>
                  p.spec.columns.map((c) => {
                    const v = row[c.name] ?? null;
                    return c.type === 'timestamp' && typeof v === 'number' ? timestampText(v) : v;
                  }),
                )
                .sort(rowOrder);
            const printed = (r: { readonly result: { readonly rows: readonly unknown[] } }) =>
              (plain(r.result.rows) as unknown[]).sort(rowOrder);
            expect(cells(s1, p1)).toEqual(printed(first));
            expect(s1.rejected.length).toBe(first.rejected);
            expect(s1.late.length).toBe(first.late);
            expect(s1.duplicates).toBe(first.duplicates);
            expect(sortedPublished(s1.published)).toEqual(sortedPublished(first.published as PublishEntry[]));
            expect(cells(s2, p2)).toEqual(printed(second));
            expect(s2.rejected.length).toBe(second.rejected);
            expect(s2.late.length).toBe(second.late);
            expect(s2.duplicates).toBe(second.duplicates);
            tally(s1);
            tally(s2);
          },
        ),
        { numRuns: Math.min(NUM_RUNS, 60) },
      );
    },
    240_000,
  );
});
