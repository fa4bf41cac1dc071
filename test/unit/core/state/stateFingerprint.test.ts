import { z } from 'zod';
import {
  avg,
  count,
  distinctCount,
  percentile,
  pipeline,
  session,
  sliding,
  sum,
  topK,
  tumbling,
  type Duration,
} from '../../../../functions/core/dsl';
import type { AnyColumnAggregate } from '../../../../functions/core/aggregates/columnAggregate';
import {
  canonicalJson,
  classifyStateChange,
  parseStateShape,
  shapeText,
  STATE_CHANGE,
  stateFingerprint,
  type StateShape,
} from '../../../../functions/core/state/stateFingerprint';

const Flight = z.object({
  id: z.string(),
  origin: z.string(),
  dest: z.string(),
  delay: z.number(),
  ts: z.number(),
});
type F = z.infer<typeof Flight>;

interface Variant {
  readonly window?: Parameters<ReturnType<typeof base>['window']>[0];
  readonly key?: 'origin' | 'dest';
  readonly dedupe?: boolean;
  readonly filter?: (f: F) => boolean;
  readonly aggregates?: Record<string, AnyColumnAggregate<F>>;
  readonly lateness?: Duration;
}

const base = () =>
  pipeline('flights')
    .source({ stream: 'flights', shards: 2 })
    .clean({ schema: Flight, eventTime: (f) => f.ts, dedupeBy: (f) => f.id });

const AGGREGATES = (): Record<string, AnyColumnAggregate<F>> => ({
  flights: count(),
  avg_delay: avg((f) => f.delay),
  p95: percentile((f) => f.delay, 0.95),
  routes: distinctCount((f) => f.dest),
  top: topK((f) => f.dest, 3),
});

/** The flights pipeline with one thing changed; its state shape. */
function shapeOf(v: Variant = {}): StateShape {
  const cleaned =
    v.dedupe === false
      ? pipeline('flights')
          .source({ stream: 'flights', shards: 2 })
          .clean({ schema: Flight, eventTime: (f) => f.ts })
      : base();
  const key = v.key ?? 'origin';
  return cleaned
    .filter(v.filter ?? ((f) => f.delay > -60))
    .keyBy((f) => f[key], key)
    .window(v.window ?? tumbling('1h'), {
      allowedLateness: v.lateness ?? '10m',
      maxOutOfOrderness: '1m',
      idleTimeout: '1m',
    })
    .aggregate(v.aggregates ?? AGGREGATES())
    .sink({ table: 'delays' }).stateShape;
}

describe('state fingerprint', () => {
  test('when the same definition is built twice, or its object keys arrive in another order, the fingerprint is the same', () => {
    expect(stateFingerprint(shapeOf())).toBe(stateFingerprint(shapeOf()));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(stateFingerprint(shapeOf())).toMatch(/^[0-9a-f]{16}$/);
  });

  test('when a stored fingerprint is compared across releases, the shape text it hashes is unchanged (golden value)', () => {
    // Fingerprints are stored in DynamoDB: a change of what they hash strands every open window, so this
    // value may change only together with STATE_SHAPE_VERSION.
    const shape: StateShape = {
      version: 1,
      key: 'origin',
      window: { kind: 'tumbling', sizeMs: 60_000 },
      dedupe: false,
      aggregates: [{ column: 'flights', kind: 'count', params: {} }],
    };
    expect(shapeText(shape)).toBe(
      '{"aggregates":[{"column":"flights","kind":"count","params":{}}],"dedupe":false,"key":"origin","version":1,"window":{"kind":"tumbling","sizeMs":60000}}',
    );
    // sha256 of the text above, first 16 hex digits (computed once with `node:crypto`, independently).
    expect(stateFingerprint(shape)).toBe('f47fa876310f9291');
  });

  test('when the shape names the state parameters of each aggregate, they are the ones that shape stored state', () => {
    const aggregates = Object.fromEntries(shapeOf().aggregates.map((a) => [a.column, [a.kind, a.params]]));
    expect(aggregates).toEqual({
      avg_delay: ['avg', {}],
      flights: ['count', {}],
      p95: ['percentile', { relativeAccuracy: 0.01 }],
      routes: ['distinctCount', { precision: 12, exactLimit: 512 }],
      top: ['topK', { k: 3 }],
    });
  });

  describe('compatible', () => {
    test.each([
      ['a changed filter', { filter: (f: F) => f.delay > 0 }],
      ['another allowed lateness', { lateness: '30m' }],
      [
        'another quantile of a percentile (it only reads the sketch)',
        { aggregates: { ...AGGREGATES(), p95: percentile((f: F) => f.delay, 0.99) } },
      ],
      [
        'aggregate columns in another order',
        { aggregates: Object.fromEntries(Object.entries(AGGREGATES()).reverse()) },
      ],
    ])('when the new definition has %s, the change is compatible', (_what, variant) => {
      expect(stateFingerprint(shapeOf(variant as Variant))).toBe(stateFingerprint(shapeOf()));
      expect(classifyStateChange(shapeOf(), shapeOf(variant as Variant))).toEqual({
        kind: STATE_CHANGE.COMPATIBLE,
        added: [],
        reasons: [],
      });
    });
  });

  describe('evolvable', () => {
    test('when aggregate columns are only added, the change is evolvable and names them', () => {
      const next = shapeOf({
        aggregates: { ...AGGREGATES(), total: sum((f) => f.delay), max_top: topK((f) => f.origin, 5) },
      });
      expect(stateFingerprint(next)).not.toBe(stateFingerprint(shapeOf()));
      expect(classifyStateChange(shapeOf(), next)).toEqual({
        kind: STATE_CHANGE.EVOLVABLE,
        added: ['max_top', 'total'],
        reasons: [],
      });
    });
  });

  describe('incompatible', () => {
    const { flights: _flights, ...withoutFlights } = AGGREGATES();
    test.each([
      [
        'a longer window',
        { window: tumbling('2h') },
        'window changed from tumbling 3600000 ms to tumbling 7200000 ms',
      ],
      [
        'a sliding window',
        { window: sliding('1h', '30m') },
        'window changed from tumbling 3600000 ms to sliding 3600000 ms every 1800000 ms',
      ],
      [
        'a session window',
        { window: session('30m') },
        'window changed from tumbling 3600000 ms to session gap 1800000 ms',
      ],
      ['another key column', { key: 'dest' }, 'key column changed from origin to dest'],
      ['no dedupe', { dedupe: false }, 'dedupeBy was removed'],
      [
        'another aggregate kind under a column',
        { aggregates: { ...AGGREGATES(), flights: sum((f: F) => f.delay) } },
        'aggregate flights changed from count to sum',
      ],
      [
        'another top-k k',
        { aggregates: { ...AGGREGATES(), top: topK((f: F) => f.dest, 10) } },
        'aggregate top (topK) changed its parameters from {"k":3} to {"k":10}',
      ],
      ['a removed aggregate', { aggregates: withoutFlights }, 'aggregate flights was removed'],
    ])(
      'when the new definition has %s, the change is incompatible and says why',
      (_what, variant, reason) => {
        const change = classifyStateChange(shapeOf(), shapeOf(variant as Variant));
        expect(change.kind).toBe(STATE_CHANGE.INCOMPATIBLE);
        expect(change.reasons).toEqual([reason]);
      },
    );

    test('when columns are added and one removed, the change is incompatible (an addition does not excuse it)', () => {
      const { avg_delay: _avg, ...rest } = AGGREGATES();
      const change = classifyStateChange(
        shapeOf(),
        shapeOf({ aggregates: { ...rest, total: sum((f) => f.delay) } }),
      );
      expect(change).toEqual({
        kind: STATE_CHANGE.INCOMPATIBLE,
        added: ['total'],
        reasons: ['aggregate avg_delay was removed'],
      });
    });
  });

  describe('stored shapes are hostile input', () => {
    test('when a stored shape is read back, it is the same shape with the same fingerprint', () => {
      const shape = shapeOf({ window: sliding('1h', '30m') });
      const read = parseStateShape(shapeText(shape));
      expect(read).toEqual(shape);
      expect(stateFingerprint(read!)).toBe(stateFingerprint(shape));
    });

    test.each([
      ['not JSON', '{'],
      ['another version', shapeText(shapeOf()).replace('"version":1', '"version":2')],
      [
        'a window without a size',
        '{"aggregates":[],"dedupe":false,"key":"k","version":1,"window":{"kind":"tumbling"}}',
      ],
      [
        'an aggregate without params',
        '{"aggregates":[{"column":"c","kind":"count"}],"dedupe":false,"key":"k","version":1,"window":{"kind":"tumbling","sizeMs":1}}',
      ],
      ['a non-canonical text (another fingerprint than its content)', ' ' + shapeText(shapeOf())],
      ['an array', '[]'],
    ])('when the stored text is %s, it is no shape', (_what, text) => {
      expect(parseStateShape(text)).toBeUndefined();
    });
  });
});
