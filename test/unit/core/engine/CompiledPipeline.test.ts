import fc from 'fast-check';
import { z } from 'zod';
import { count, max, pipeline, session, sliding, sum, tumbling } from '../../../../functions/core/dsl';
import { padSequence } from '../../../../functions/core/sequence';
import type { AnyColumnAggregate } from '../../../../functions/core/aggregates/columnAggregate';
import { StateDeserializationError } from '../../../../functions/core/errors';
import { MAX_REJECTED_DATA_CHARS } from '../../../../functions/core/codec/payloadCodec';
import { kinesisSequence, kplAggregate, rawData, rawRecord } from '../../../helpers/records';

const Ev = z.object({ id: z.string(), k: z.string(), v: z.number(), t: z.number() });
type Ev = z.infer<typeof Ev>;
const T0 = Date.UTC(2026, 0, 1);
const W = { allowedLateness: '30s', maxOutOfOrderness: '10s' } as const;

const tumblingP = (dedupe = false) =>
  pipeline('test')
    .source({ stream: 's' })
    .clean({ schema: Ev, eventTime: (e) => e.t, ...(dedupe ? { dedupeBy: (e: Ev) => e.id } : {}) })
    .keyBy((e) => e.k)
    .window(tumbling('1m'), W)
    .aggregate({ n: count(), total: sum((e) => e.v) })
    .sink({ table: 't' });

const ev = (i: number, t: number, k = 'a', v = 1): Ev => ({ id: `e${i}`, k, v, t });
const rec = (e: unknown, seq: number, shardId = 'shard-0') =>
  rawRecord(e, {
    sequenceNumber: kinesisSequence(seq),
    shardId,
    approximateArrivalTimestamp: T0 + 3_600_000,
  });
const NONE = { closedWatermark: -Infinity };

describe('prepare', () => {
  it('when records are valid, it returns distinct groups, cleaned records and per-shard summaries', () => {
    const p = tumblingP();
    const prepared = p.prepare(
      [rec(ev(1, T0 + 5), 1), rec(ev(2, T0 + 6), 2), rec(ev(3, T0 + 61_000, 'b'), 3, 'shard-1')],
      NONE,
    );
    expect(prepared.groups).toEqual([
      { key: 'a', window: { start: T0, end: T0 + 60_000 } },
      { key: 'b', window: { start: T0 + 60_000, end: T0 + 120_000 } },
    ]);
    expect(prepared.cleaned.map((c) => [c.shardId, c.sequenceNumber, c.eventTime])).toEqual([
      ['shard-0', kinesisSequence(1), T0 + 5],
      ['shard-0', kinesisSequence(2), T0 + 6],
      ['shard-1', kinesisSequence(3), T0 + 61_000],
    ]);
    expect(prepared.shards).toEqual({
      'shard-0': { maxEventTime: T0 + 6, lastSequence: padSequence(kinesisSequence(2)), records: 2 },
      'shard-1': { maxEventTime: T0 + 61_000, lastSequence: padSequence(kinesisSequence(3)), records: 1 },
    });
  });

  it('when event times move back and forth across tumbling window bounds, within and across batches, each record gets the window that contains it', () => {
    // Times at, just before and just after the minute bounds (fractions too), in any order.
    const time = fc
      .tuple(
        fc.integer({ min: 0, max: 20 }),
        fc.constantFrom(-1, -0.5, -0.001, 0, 0.001, 0.5, 1, 30_000, 59_999),
      )
      .map(([minute, delta]) => T0 + 60_000 + minute * 60_000 + delta);
    fc.assert(
      fc.property(
        fc.array(fc.array(time, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        (batches) => {
          const p = tumblingP();
          let seq = 0;
          for (const times of batches) {
            const prepared = p.prepare(
              times.map((t) => rec(ev(seq, t), ++seq)),
              NONE,
            );
            expect(prepared.elements.map((el) => el.windows)).toEqual(
              times.map((t) => {
                const start = T0 + Math.floor((t - T0) / 60_000) * 60_000;
                return [{ start, end: start + 60_000 }];
              }),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('when records are bad, each becomes a rejection with reason, shard and sequence number and the batch continues', () => {
    const p = tumblingP();
    const records = [
      rawData('###', { sequenceNumber: '1' }),
      rawData(Buffer.from([0xff, 0xfe]).toString('base64'), { sequenceNumber: '2' }),
      rawData(Buffer.from('{"a":').toString('base64'), { sequenceNumber: '3' }),
      rec({ id: 'x', k: 'a', v: 'NaN', t: T0 }, 4),
      rec({ id: 'x', k: 'a', v: 1 }, 5),
      rec(ev(6, Number.NaN as number), 6),
      rec(ev(7, Date.UTC(1999, 11, 31)), 7),
      rec(ev(8, T0 + 3_600_000 + 86_400_001), 8),
      rec(ev(9, T0), 9),
    ];
    const prepared = p.prepare(records, NONE);
    expect(prepared.rejected.map((r) => [r.sequenceNumber, r.reason])).toEqual([
      ['1', 'INVALID_BASE64'],
      ['2', 'INVALID_UTF8'],
      ['3', 'INVALID_JSON'],
      [kinesisSequence(4), 'SCHEMA_VIOLATION'],
      [kinesisSequence(5), 'SCHEMA_VIOLATION'],
      [kinesisSequence(6), 'SCHEMA_VIOLATION'],
      [kinesisSequence(7), 'ABSURD_EVENT_TIME'],
      [kinesisSequence(8), 'EVENT_TIME_AHEAD'],
    ]);
    expect(prepared.rejected[3]!.detail).toMatch(/^v:/);
    expect(prepared.rejected[4]!.detail).toMatch(/^t:/);
    expect(
      prepared.rejected.every((r) => r.shardId === 'shardId-000000000000' || r.shardId === 'shard-0'),
    ).toBe(true);
    expect(prepared.cleaned).toHaveLength(1);
    expect(prepared.shards['shard-0']!.records).toBe(6);
  });

  it('when eventTime returns a non-number, it rejects MISSING_EVENT_TIME; when it throws, OPERATOR_THREW', () => {
    const Loose = z.object({ k: z.string(), t: z.unknown().optional() });
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({
        schema: Loose,
        eventTime: (e) => {
          if (e.t === 'boom') throw new Error('bad clock');
          return e.t as number;
        },
      })
      .keyBy((e) => e.k)
      .window(tumbling('1m'), W)
      .aggregate({ n: count() })
      .sink({ table: 't' });
    const prepared = p.prepare([rec({ k: 'a' }, 1), rec({ k: 'a', t: 'boom' }, 2)], NONE);
    expect(prepared.rejected.map((r) => r.reason)).toEqual(['MISSING_EVENT_TIME', 'OPERATOR_THREW']);
    expect(prepared.rejected[1]!.detail).toMatch(/eventTime threw: Error: bad clock/);
  });

  it('when a user operator throws or returns garbage, only that record is rejected, naming the operator', () => {
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t })
      .map((e) => {
        if (e.v === 1) throw new Error('map failed');
        return e.v === 2 ? (undefined as unknown as Ev) : e;
      }, 'enrich')
      .filter((e) => (e.v === 3 ? ('yes' as unknown as boolean) : true))
      .flatMap((e) => (e.v === 4 ? (5 as unknown as Ev[]) : [e]))
      .keyBy((e) => (e.v === 5 ? (7 as unknown as string) : e.v === 6 ? '' : e.k))
      .window(tumbling('1m'), W)
      .aggregate({
        n: count(),
        top: max((e) =>
          e.v === 7 ? Number.NaN : e.v === 8 ? (undefined as unknown as number).valueOf() : e.v,
        ),
      })
      .sink({ table: 't' });
    const prepared = p.prepare(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((v, i) => rec(ev(i, T0, 'a', v), i + 1)),
      NONE,
    );
    expect(prepared.rejected.map((r) => [r.reason, r.detail.split(':')[0]])).toEqual([
      ['OPERATOR_THREW', 'operator enrich threw'],
      ['OPERATOR_RETURNED_INVALID', 'operator enrich returned undefined'],
      ['OPERATOR_RETURNED_INVALID', 'operator filter#2 returned "yes", not a boolean'],
      ['OPERATOR_RETURNED_INVALID', 'operator flatMap#3 returned 5, not an iterable'],
      [
        'INVALID_KEY',
        'keyBy returned 7, which is not a non-empty string; keys are strings of 1..1024 UTF-8 bytes',
      ],
      [
        'INVALID_KEY',
        'keyBy returned "", which is not a non-empty string; keys are strings of 1..1024 UTF-8 bytes',
      ],
      ['OPERATOR_RETURNED_INVALID', 'aggregate top'],
      ['OPERATOR_THREW', 'aggregate top threw'],
    ]);
    expect(prepared.elements).toHaveLength(1);
  });

  it('when flatMap fans out and a later element fails, the whole record is rejected and nothing of it is routed', () => {
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t })
      .flatMap((e) => [
        { ...e, k: 'x' },
        { ...e, k: e.v === 1 ? '' : 'y' },
      ])
      .keyBy((e) => e.k)
      .window(tumbling('1m'), W)
      .aggregate({ n: count() })
      .sink({ table: 't' });
    const prepared = p.prepare([rec(ev(1, T0, 'a', 1), 1), rec(ev(2, T0, 'a', 2), 2)], NONE);
    expect(prepared.rejected.map((r) => r.reason)).toEqual(['INVALID_KEY']);
    expect(prepared.elements.map((e) => e.key)).toEqual(['x', 'y']);
    expect(prepared.cleaned).toHaveLength(1);
  });

  it('when a record is KPL-aggregated, its user records are processed with their sub-sequence numbers', () => {
    const p = tumblingP();
    const data = kplAggregate([
      { partitionKey: 'a', data: JSON.stringify(ev(1, T0)) },
      { partitionKey: 'b', data: '{"broken"' },
      { partitionKey: 'c', data: JSON.stringify(ev(3, T0, 'z')) },
    ]);
    const prepared = p.prepare(
      [rawData(data, { sequenceNumber: '77', shardId: 'shard-0', approximateArrivalTimestamp: T0 })],
      NONE,
    );
    expect(prepared.cleaned.map((c) => [c.subSequenceNumber, c.partitionKey])).toEqual([
      [0, 'a'],
      [2, 'c'],
    ]);
    expect(prepared.rejected).toEqual([
      expect.objectContaining({
        reason: 'INVALID_JSON',
        sequenceNumber: '77',
        subSequenceNumber: 1,
        partitionKey: 'b',
        data: Buffer.from('{"broken"').toString('base64'),
      }),
    ]);
  });

  it('when a record is oversize, the rejection keeps only a bounded prefix of its payload', () => {
    const data = Buffer.alloc(1024 * 1024 + 3, 0x20).toString('base64');
    const [rejection] = tumblingP().prepare([rawData(data)], NONE).rejected;
    expect(rejection!.reason).toBe('OVERSIZE_RECORD');
    expect(rejection!.data.length).toBe(MAX_REJECTED_DATA_CHARS);
  });

  it('when flatMap fans one deduplicated record out, each output keeps its own dedupe id', () => {
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t, dedupeBy: (e) => e.id })
      .flatMap((e) => [e, e])
      .keyBy((e) => e.k)
      .window(tumbling('1m'), W)
      .aggregate({ n: count() })
      .sink({ table: 't' });
    const first = p.combine(p.prepare([rec(ev(1, T0), 1)], NONE), () => undefined);
    expect(first.map((x) => [x.records, x.dedupeIds])).toEqual([[2, ['e1', 'e1\u00001']]]);
    const redelivered = p.combine(
      p.prepare([rec(ev(1, T0), 2)], NONE),
      () => undefined,
      () => new Set(first[0]!.dedupeIds),
    );
    // Nothing is counted again; the partial only fences the dropped duplicates.
    expect(redelivered.map((x) => [x.records, x.dedupeIds, x.maxSequence])).toEqual([
      [0, undefined, { 'shard-0': padSequence(kinesisSequence(2)) }],
    ]);
  });

  it('when a KPL aggregate is garbage, the record is rejected INVALID_KPL_AGGREGATE', () => {
    const bad = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), Buffer.alloc(20, 7)]).toString(
      'base64',
    );
    expect(tumblingP().prepare([rawData(bad)], NONE).rejected[0]!.reason).toBe('INVALID_KPL_AGGREGATE');
  });

  it('when a window is already closed at the stored watermark, its records are late (never dropped)', () => {
    const p = tumblingP();
    // Window [T0, T0+60s) closes at T0+90s (≥ rule).
    const atClose = p.prepare([rec(ev(1, T0 + 10), 1)], { closedWatermark: T0 + 90_000 });
    expect(atClose.late).toEqual([
      {
        key: 'a',
        windowStart: T0,
        windowEnd: T0 + 60_000,
        eventTime: T0 + 10,
        watermark: T0 + 90_000,
        shardId: 'shard-0',
        sequenceNumber: kinesisSequence(1),
        value: ev(1, T0 + 10),
      },
    ]);
    expect(atClose.groups).toEqual([]);
    const justBefore = p.prepare([rec(ev(1, T0 + 10), 1)], { closedWatermark: T0 + 89_999 });
    expect(justBefore.late).toEqual([]);
    expect(justBefore.groups).toHaveLength(1);
  });

  it('when sliding windows are partly closed, only the closed windows get late entries', () => {
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t })
      .keyBy((e) => e.k)
      .window(sliding('2m', '1m'), { allowedLateness: 0, maxOutOfOrderness: 0 })
      .aggregate({ n: count() })
      .sink({ table: 't' });
    const prepared = p.prepare([rec(ev(1, T0 + 70_000), 1)], { closedWatermark: T0 + 120_000 });
    expect(prepared.late.map((l) => l.windowStart)).toEqual([T0]);
    expect(prepared.groups.map((g) => g.window.start)).toEqual([T0 + 60_000]);
  });
});

describe('operators', () => {
  it('when map, filter and flatMap are chained, they apply in order to every record', () => {
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t })
      .map((e) => ({ ...e, v: e.v * 10 }))
      .filter((e) => e.v >= 20)
      .flatMap((e) => Array.from({ length: e.v / 10 }, (_, i) => ({ ...e, k: `${e.k}${i}` })))
      .keyBy((e) => e.k)
      .window(tumbling('1m'), W)
      .aggregate({ n: count(), total: sum((e) => e.v) })
      .sink({ table: 't' });
    const prepared = p.prepare(
      [1, 2, 3].map((v, i) => rec(ev(i, T0, 'k', v), i + 1)),
      NONE,
    );
    const rows = p
      .combine(prepared, () => undefined)
      .map((x) => p.resultRow(x.key, x.window, x.state, x.records))
      .map((r) => [r['key'], r['n'], r['total']]);
    expect(rows).toEqual([
      ['k0', 2, 50],
      ['k1', 2, 50],
      ['k2', 1, 30],
    ]);
    expect(prepared.cleaned).toHaveLength(3);
  });

  it('when flatMap returns a generator, its values are routed', () => {
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t })
      .flatMap(function* (e) {
        yield e;
        yield { ...e, k: 'copy' };
      })
      .keyBy((e) => e.k)
      .window(tumbling('1m'), W)
      .aggregate({ n: count() })
      .sink({ table: 't' });
    expect(p.prepare([rec(ev(1, T0), 1)], NONE).elements.map((e) => e.key)).toEqual(['a', 'copy']);
  });
});

describe('combine', () => {
  it('when given a copy of a prepared batch with fewer elements, it groups those elements afresh', () => {
    const p = tumblingP();
    const prepared = p.prepare(
      [rec(ev(1, T0), 1), rec(ev(2, T0 + 1), 2), rec(ev(3, T0 + 70_000, 'b'), 3)],
      NONE,
    );
    const withoutFirst = { ...prepared, elements: prepared.elements.slice(1) };
    const partials = p
      .combine(withoutFirst, () => undefined)
      .map((x) => [x.key, x.window.start - T0, x.records]);
    expect(partials).toEqual([
      ['a', 0, 1],
      ['b', 60_000, 1],
    ]);
  });

  it('when an aggregate has no addColumn, its add is called per accepted record in element order', () => {
    // A custom aggregate with only the required members: the order-sensitive concatenation shows that
    // the fallback adds each window's rows in order, and fenced or duplicate records not at all.
    const concat: AnyColumnAggregate<Ev> = {
      kind: 'concat',
      outputType: 'string',
      input: (e) => e.id,
      validate: () => undefined,
      create: () => '',
      add: (state, input) => `${state as string}${input as string};`,
      merge: (a, b) => `${a as string}${b as string}`,
      serialize: (state) => state as string,
      deserialize: (stored) => stored as string,
      result: (state) => state,
    };
    const p = pipeline('test')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t, dedupeBy: (e: Ev) => e.id })
      .keyBy((e) => e.k)
      .window(tumbling('1m'), W)
      .aggregate({ ids: concat, n: count() })
      .sink({ table: 't' });
    const prepared = p.prepare(
      [
        rec(ev(1, T0 + 1), 1),
        rec(ev(2, T0 + 2, 'b'), 2),
        rec(ev(3, T0 + 3), 3),
        rec(ev(1, T0 + 4), 4),
        rec(ev(4, T0 + 61_000), 5),
        rec(ev(5, T0 + 5), 6),
      ],
      NONE,
    );
    const partials = p.combine(prepared, (key) =>
      key === 'b' ? { 'shard-0': padSequence(kinesisSequence(2)) } : undefined,
    );
    expect(partials.map((x) => [x.key, x.window.start, x.state, x.records])).toEqual([
      ['a', T0, { ids: 'e1;e3;e5;', n: 3 }, 3],
      ['a', T0 + 60_000, { ids: 'e4;', n: 1 }, 1],
    ]);
  });

  it('when there are no fences, it aggregates per (key, window) with the max sequence per shard', () => {
    const p = tumblingP();
    const prepared = p.prepare(
      [rec(ev(1, T0, 'a', 2), 1), rec(ev(2, T0 + 1, 'a', 3), 5, 'shard-1'), rec(ev(3, T0 + 2, 'a', 4), 3)],
      NONE,
    );
    const [partial, ...rest] = p.combine(prepared, () => undefined);
    expect(rest).toEqual([]);
    expect(partial).toEqual({
      key: 'a',
      window: { start: T0, end: T0 + 60_000 },
      state: { n: 3, total: 9 },
      records: 3,
      maxSequence: { 'shard-0': padSequence(kinesisSequence(3)), 'shard-1': padSequence(kinesisSequence(5)) },
    });
  });

  it('when a redelivered batch straddles the fence, records at or below the fence are skipped per shard', () => {
    const p = tumblingP();
    const prepared = p.prepare(
      [1, 2, 3, 4].map((i) => rec(ev(i, T0 + i, 'a', i), i)),
      NONE,
    );
    const fence = { 'shard-0': padSequence(kinesisSequence(2)) };
    const [partial] = p.combine(prepared, () => fence);
    expect(partial!.records).toBe(2);
    expect(partial!.state).toEqual({ n: 2, total: 7 });
    expect(partial!.maxSequence).toEqual({ 'shard-0': padSequence(kinesisSequence(4)) });
  });

  it('when every record of a group is fenced, no partial is returned for it', () => {
    const p = tumblingP();
    const prepared = p.prepare([rec(ev(1, T0), 1)], NONE);
    expect(p.combine(prepared, () => ({ 'shard-0': padSequence(kinesisSequence(9)) }))).toEqual([]);
  });

  it('when the pipeline dedupes, seen ids are skipped and new ids are reported', () => {
    const p = tumblingP(true);
    const prepared = p.prepare([rec(ev(1, T0), 1), rec(ev(2, T0), 2), rec(ev(2, T0), 3)], NONE);
    const [partial] = p.combine(
      prepared,
      () => undefined,
      () => new Set(['e1']),
    );
    expect(partial!.records).toBe(1);
    expect(partial!.dedupeIds).toEqual(['e2']);
  });

  it('when duplicates are dropped, stats count each dropped record once, even in several sliding windows', () => {
    const slidingP = pipeline('slide')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t, dedupeBy: (e) => e.id })
      .keyBy((e) => e.k)
      .window(sliding('2m', '1m'), W)
      .aggregate({ n: count() })
      .sink({ table: 't' });
    // e1 stored already; e2 twice in the batch; e3 once: two duplicates, each in two windows.
    const prepared = slidingP.prepare(
      [
        rec(ev(1, T0 + 90_000), 1),
        rec(ev(2, T0 + 90_000), 2),
        rec(ev(2, T0 + 90_000), 3),
        rec(ev(3, T0 + 90_000), 4),
      ],
      NONE,
    );
    const stats = { duplicates: 0 };
    const partials = slidingP.combine(
      prepared,
      () => undefined,
      () => new Set(['e1']),
      stats,
    );
    expect(partials.map((x) => x.records)).toEqual([2, 2]);
    expect(stats.duplicates).toBe(2);
    const fixedStats = { duplicates: 0 };
    const tumbling1 = tumblingP(true);
    tumbling1.combine(
      tumbling1.prepare([rec(ev(1, T0), 1), rec(ev(1, T0), 2), rec(ev(1, T0), 3)], NONE),
      () => undefined,
      undefined,
      fixedStats,
    );
    expect(fixedStats.duplicates).toBe(2);
  });

  it('when session records are close together, they merge into one session per key within the batch', () => {
    const p = pipeline('p')
      .source({ stream: 's' })
      .clean({ schema: Ev, eventTime: (e) => e.t })
      .keyBy((e) => e.k)
      .window(session('10s'), W)
      .aggregate({ n: count() })
      .sink({ table: 't' });
    const prepared = p.prepare(
      [rec(ev(1, T0 + 25_000), 1), rec(ev(2, T0), 2), rec(ev(3, T0 + 10_000), 3), rec(ev(4, T0 + 50_000), 4)],
      NONE,
    );
    // T0 and T0+10s touch ([T0, T0+10s) and [T0+10s, T0+20s)); T0+25s starts after T0+20s.
    expect(prepared.groups.map((g) => g.window)).toEqual([
      { start: T0, end: T0 + 20_000 },
      { start: T0 + 25_000, end: T0 + 35_000 },
      { start: T0 + 50_000, end: T0 + 60_000 },
    ]);
    expect(p.combine(prepared, () => undefined).map((x) => [x.window, x.records])).toEqual([
      [{ start: T0, end: T0 + 20_000 }, 2],
      [{ start: T0 + 25_000, end: T0 + 35_000 }, 1],
      [{ start: T0 + 50_000, end: T0 + 60_000 }, 1],
    ]);
  });
});

describe('mergeState, resultRow, closeTime', () => {
  it('when two partials of a window are merged, the row equals one combined batch', () => {
    const p = tumblingP();
    const all = [1, 2, 3, 4].map((i) => rec(ev(i, T0 + i, 'a', i), i));
    const whole = p.combine(p.prepare(all, NONE), () => undefined)[0]!;
    const a = p.combine(p.prepare(all.slice(0, 1), NONE), () => undefined)[0]!;
    const b = p.combine(p.prepare(all.slice(1), NONE), () => undefined)[0]!;
    expect(p.mergeState(a.state, b.state)).toEqual(whole.state);
    expect(p.resultRow('a', whole.window, p.mergeState(a.state, b.state), 4)).toEqual({
      key: 'a',
      window_start: T0,
      window_end: T0 + 60_000,
      n: 4,
      total: 10,
      evolved_columns: null,
    });
    expect(p.closeTime(whole.window)).toBe(T0 + 90_000);
    expect(p.isClosed(whole.window, T0 + 90_000)).toBe(true);
  });

  it('when stored state is corrupt, mergeState throws a StateDeserializationError naming the column', () => {
    const p = tumblingP();
    expect(() => p.mergeState({ n: 'x' }, { n: 1 })).toThrow(StateDeserializationError);
    expect(() => p.mergeState({ n: 'x' }, { n: 1 })).toThrow(/column n/);
  });
});
