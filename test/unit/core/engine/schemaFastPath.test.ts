import fc from 'fast-check';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { compileSchemaFastPath, NOT_ACCEPTED } from '../../../../functions/core/engine/schemaFastPath';
import { PageEvent } from '../../../../functions/pipelines/pageActivity';

type Validate = (value: unknown) => { value?: unknown; issues?: readonly unknown[] };
const zodParse = (schema: unknown): Validate =>
  (schema as { '~standard': { validate: Validate } })['~standard'].validate;

/**
 * A value written out with everything the outputs must agree on: own keys in order (an own key holding
 * `undefined` included), -0 apart from 0, NaN, prototypes.
 */
function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const proto = Object.getPrototypeOf(value) === Object.prototype ? '' : '!proto';
  return `{${proto}${Object.keys(value)
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/**
 * Asserts that the fast path and zod agree on `value`: the same acceptance, and then the same output.
 * Returns whether it was accepted.
 */
function agree(schema: unknown, value: unknown): boolean {
  const fast = compileSchemaFastPath(schema)!;
  const zod = zodParse(schema)(value);
  const accepted = fast(value);
  if (accepted === NOT_ACCEPTED) {
    expect(zod.issues).toBeDefined();
    return false;
  } else {
    expect(zod.issues).toBeUndefined();
    expect(canonical(accepted)).toBe(canonical(zod.value));
    // Plain objects as zod's, nested ones too (toStrictEqual compares prototypes): made by constructors.
    expect(accepted).toStrictEqual(zod.value);
    // A fresh object, as zod's parse returns: never the input itself.
    if (typeof value === 'object' && value !== null) expect(accepted).not.toBe(value);
    return true;
  }
}

const surrogatePair = '\u{1F600}';
/** Strings around the schemas' bounds and formats, unicode and hostile ones. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom(
    '',
    'a',
    'ab',
    'abc',
    'aaaaa',
    'aaaaaa',
    surrogatePair,
    `${surrogatePair}${surrogatePair}`,
    `a${surrogatePair}`,
    `${surrogatePair}${surrogatePair}${surrogatePair}`,
    '\uD800',
    '\uDC00a',
    'NaN',
    'Infinity',
    '1e999',
    '__proto__',
    'constructor',
    'view',
    'click',
    'purchase',
    'x',
    'DE',
    'de',
    'D',
    'DEU',
    'a@b.co',
    'aaa',
    'AAA',
  ),
  // UUID-like: valid ones (any version 1-8, both variants, nil, max) and one character off.
  fc
    .tuple(
      fc.stringMatching(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/),
      fc.nat(40),
      fc.constantFrom('', 'g', '-', '0', 'F', ' '),
    )
    .map(([u, at, ch]) => (ch === '' ? u : u.slice(0, at) + ch + u.slice(at + 1))),
  fc.constantFrom(
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  ),
  // Date-times: valid and one character off.
  fc
    .tuple(
      fc.date({
        min: new Date('0001-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      fc.nat(30),
      fc.constantFrom('', 'x', '+01:00', 'z', ' ', '9', '.', '.5'),
    )
    .map(([d, at, ch]) => {
      const s = d.toISOString();
      if (ch === '') return s;
      if (ch.length > 1) return s.replace('Z', ch);
      return s.slice(0, at) + ch + s.slice(at + 1);
    }),
  fc.constantFrom(
    '2024-02-29T12:00:00Z',
    '2023-02-29T12:00:00Z',
    '2026-01-01T00:00:00.123456789+05:30',
    '2026-01-01',
    '12:00:00',
  ),
);
const hostileNumber = fc.oneof(
  fc.integer({ min: -10, max: 10 }),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    1e308,
    -1e308,
    Number.MAX_VALUE,
    2 ** 31,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 32,
    2 ** 32 - 1,
    2 ** 53,
    2 ** 53 - 1,
    -(2 ** 53),
    3.5e38,
    3.4e38,
    0.1,
    9.999,
    10,
    1e6,
    1e6 + 1,
  ),
);
const leaf = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constantFrom(null, undefined, [], {}, ['a'], { t: '2026-01-01T00:00:00Z' }),
);

/** Objects with (some of) the schema's keys, extra keys, prototype keys; and non-objects. */
const objectFor = (
  keys: readonly string[],
  field: (key: string) => fc.Arbitrary<unknown>,
): fc.Arbitrary<unknown> =>
  fc
    .oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(null, [], 'text', 42, true) },
    )
    .chain((nonObject) =>
      nonObject !== undefined
        ? fc.constant(nonObject)
        : fc
            .record({
              fields: fc.tuple(
                ...keys.map((k) =>
                  fc.option(field(k), { nil: Symbol.for('missing') as unknown as undefined, freq: 30 }),
                ),
              ),
              extra: fc.dictionary(
                fc.constantFrom('extra', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'),
                leaf,
                { maxKeys: 2 },
              ),
              viaJson: fc.boolean(),
            })
            .map(({ fields, extra, viaJson }) => {
              const parts: string[] = [];
              const out: Record<string, unknown> = {};
              keys.forEach((k, i) => {
                const v = fields[i];
                if (v === (Symbol.for('missing') as unknown)) return;
                out[k] = v;
                if (v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)))
                  parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
              });
              for (const [k, v] of Object.entries(extra)) {
                if (k !== '__proto__') out[k] = v;
                if (v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)))
                  parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
              }
              // JSON.parse makes `__proto__` an own key, as a record's payload does.
              return viaJson ? JSON.parse(`{${parts.join(',')}}`) : out;
            }),
    );

const Classic = z.object({
  id: z.uuid(),
  name: z.string().min(2).max(5),
  code: z.string().length(3),
  n: z.number().int().min(-5).max(1e6),
  f: z.number().positive().lt(10),
  b: z.boolean(),
  e: z.enum(['view', 'click']),
  lit: z.literal('x'),
  o: z.string().optional(),
  nu: z.number().nullable(),
  on: z.string().nullable().optional(),
  nested: z.object({ t: z.iso.datetime({ offset: true }), d: z.iso.date(), r: z.string().regex(/^a+$/g) }),
  mail: z.email(),
  i32: z.int32().optional(),
  u32: z.uint32().optional(),
  f32: z.float32().optional(),
  constructor: z.string().optional(),
  toString: z.number().optional(),
  upper: z.string().uppercase().optional(),
  utc: z.iso.datetime().optional(),
});

const Mini = zm.object({
  id: zm.uuid(),
  name: zm.string().check(zm.minLength(2), zm.maxLength(5)),
  code: zm.string().check(zm.length(3)),
  n: zm.number().check(zm.int(), zm.gte(-5), zm.lte(1e6)),
  f: zm.number().check(zm.positive(), zm.lt(10)),
  b: zm.boolean(),
  e: zm.enum(['view', 'click']),
  lit: zm.literal('x'),
  o: zm.optional(zm.string()),
  nu: zm.nullable(zm.number()),
  on: zm.optional(zm.nullable(zm.string())),
  nested: zm.object({
    t: zm.iso.datetime({ offset: true }),
    d: zm.iso.date(),
    r: zm.string().check(zm.regex(/^a+$/y)),
  }),
  mail: zm.email(),
});

const dateTime = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
/** Strings of `min`..`max` code points (a surrogate pair is one; a lone low surrogate is one too). */
const text = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.constantFrom('a', 'Z', ' ', 'é', surrogatePair, '\uDC00'),
    minLength: min,
    maxLength: max,
  });
/** Values each field accepts (so that whole values are often valid and the accepting side is exercised too). */
const VALID: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  id: fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000')),
  eventId: fc.uuid(),
  name: text(2, 5),
  code: fc.string({ minLength: 3, maxLength: 3 }),
  n: fc.integer({ min: -5, max: 1e6 }),
  f: fc.double({ min: 0, max: 10, minExcluded: true, maxExcluded: true, noNaN: true }),
  b: fc.boolean(),
  e: fc.constantFrom('view', 'click'),
  lit: fc.constant('x'),
  o: fc.string(),
  nu: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
  on: fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined)),
  mail: fc.constantFrom('a@b.co', 'first.last+tag@example.com'),
  i32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  u32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  f32: fc.double({ min: -3e38, max: 3e38, noNaN: true }),
  constructor: fc.string(),
  toString: fc.integer(),
  upper: fc.constantFrom('ABC', 'A B', ''),
  utc: dateTime,
  userId: text(1, 12),
  sessionId: text(1, 12),
  page: text(1, 12),
  action: fc.constantFrom('view', 'click', 'add_to_cart', 'purchase'),
  country: fc.constantFrom('DE', 'FR', 'US'),
  device: fc.constantFrom('mobile', 'desktop', 'tablet'),
  durationMs: fc.double({ min: 0, max: 1e9, noNaN: true }),
  revenue: fc.integer({ min: 0, max: 1000 }),
  ts: fc.oneof(
    dateTime,
    dateTime.map((s) => s.replace('Z', '+02:00')),
  ),
  t: dateTime,
  d: dateTime.map((s) => s.slice(0, 10)),
  r: fc.stringMatching(/^a{1,4}$/),
};
/** Mostly a valid value for the key, sometimes a hostile one. */
const fieldValue = (key: string): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: VALID[key] ?? leaf }, { weight: 1, arbitrary: leaf });
const nestedValue = objectFor(['t', 'd', 'r'], fieldValue);
const validNested = fc.record({ t: VALID['t']!, d: VALID['d']!, r: VALID['r']! });
const fieldOf = (key: string): fc.Arbitrary<unknown> =>
  key === 'nested'
    ? fc.oneof({ weight: 12, arbitrary: nestedValue }, { weight: 1, arbitrary: leaf })
    : fieldValue(key);

describe('schemaFastPath', () => {
  it.each([
    ['page-activity (zod/mini)', PageEvent],
    ['zod classic', Classic],
    ['zod/mini', Mini],
    ['zod/mini, z.compile', zm.compile(Mini)],
  ])(
    'when the schema is %s, the fast path and zod agree on acceptance and output for random and hostile values',
    (_name, schema) => {
      expect(compileSchemaFastPath(schema)).toBeDefined();
      const keys = Object.keys((schema as unknown as { _zod: { def: { shape: object } } })._zod.def.shape);
      let accepted = 0;
      fc.assert(
        fc.property(objectFor(keys, fieldOf), (value) => {
          if (agree(schema, value)) accepted++;
        }),
        { numRuns: 3_000 },
      );
      // Both sides are exercised: many values accepted (outputs compared), many refused.
      expect(accepted).toBeGreaterThan(100);
      expect(accepted).toBeLessThan(2_850);
    },
  );

  it.each([
    ['page-activity', PageEvent],
    ['zod classic', Classic],
    ['zod/mini', Mini],
  ])(
    'when one field of a valid %s value is hostile (bounds, unicode, NaN, huge numbers, near-miss formats), they agree',
    (_name, schema) => {
      const keys = Object.keys((schema as unknown as { _zod: { def: { shape: object } } })._zod.def.shape);
      const valid = fc.record(
        Object.fromEntries(keys.map((k) => [k, k === 'nested' ? validNested : VALID[k]!])),
      );
      const nestedKey = fc.constantFrom('t', 'd', 'r');
      fc.assert(
        fc.property(valid, fc.constantFrom(...keys), nestedKey, leaf, (base, key, inner, hostile) => {
          expect(agree(schema, base)).toBe(true);
          agree(schema, { ...base, [key]: hostile });
          if (key === 'nested')
            agree(schema, { ...base, nested: { ...(base['nested'] as object), [inner]: hostile } });
        }),
        { numRuns: 5_000 },
      );
    },
  );

  it('when values are page events, some valid and some one field off, it accepts the valid ones (the fast path is taken)', () => {
    const fast = compileSchemaFastPath(PageEvent)!;
    const valid = {
      eventId: '00000000-0000-4000-8000-000000000001',
      userId: 'u1',
      sessionId: 's1',
      page: '/p/1',
      action: 'view',
      country: 'DE',
      device: 'mobile',
      durationMs: 12,
      revenue: 0,
      ts: '2026-01-01T00:00:00.060Z',
      extra: 'stripped',
    };
    const { extra: _stripped, ...expected } = valid;
    expect(fast(valid)).toEqual(expected);
    expect(Object.keys(fast(valid) as object)).toEqual(Object.keys(expected));
    agree(PageEvent, valid);
    for (const [key, bad] of Object.entries({
      eventId: 'not-a-uuid',
      userId: '',
      action: 'VIEW',
      country: 'de',
      durationMs: -1,
      revenue: 'NaN',
      ts: '2026-02-30T00:00:00Z',
    })) {
      expect(fast({ ...valid, [key]: bad })).toBe(NOT_ACCEPTED);
      agree(PageEvent, { ...valid, [key]: bad });
    }
  });

  it('when it accepts an object, the value is a plain object with own keys in shape order, also for keys named like Object.prototype members', () => {
    const schema = z.object({
      constructor: z.string(),
      toString: z.number(),
      inner: z.object({ hasOwnProperty: z.boolean(), valueOf: z.string().optional() }),
      'a-b': z.string(),
    });
    const fast = compileSchemaFastPath(schema)!;
    const value = fast({
      'a-b': 'x',
      inner: { valueOf: 'v', hasOwnProperty: true },
      toString: 1,
      constructor: 'c',
    }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(value['inner'])).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['constructor', 'toString', 'inner', 'a-b']);
    expect(Object.keys(value['inner'] as object)).toEqual(['hasOwnProperty', 'valueOf']);
    expect(Object.getOwnPropertyDescriptor(value, 'constructor')).toEqual({
      value: 'c',
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect(JSON.stringify(value)).toBe(
      '{"constructor":"c","toString":1,"inner":{"hasOwnProperty":true,"valueOf":"v"},"a-b":"x"}',
    );
    agree(schema, { constructor: 'c', toString: 1, inner: { hasOwnProperty: false }, 'a-b': '' });
  });

  it('when an optional key is absent it is left out, present with undefined it is kept (as zod does)', () => {
    const schema = z.object({ a: z.string().optional(), b: z.number() });
    const fast = compileSchemaFastPath(schema)!;
    expect(Object.keys(fast({ b: 1 }) as object)).toEqual(['b']);
    expect(Object.keys(fast({ a: undefined, b: 1 }) as object)).toEqual(['a', 'b']);
    agree(schema, { b: 1 });
    agree(schema, { a: undefined, b: 1 });
  });

  it.each([
    ['a transform', z.string().transform((s) => s.length)],
    ['a refinement', z.object({ a: z.string().refine((s) => s !== 'x') })],
    ['trim (an overwrite)', z.object({ a: z.string().trim() })],
    ['a default', z.object({ a: z.string().default('x') })],
    ['a strict object', z.strictObject({ a: z.string() })],
    ['a loose object', z.looseObject({ a: z.string() })],
    ['a union', z.union([z.string(), z.number()])],
    ['an array', z.object({ a: z.array(z.string()) })],
    ['a URL format', z.object({ a: z.url() })],
    ['multipleOf', z.object({ a: z.number().multipleOf(2) })],
    ['coercion', z.object({ a: z.coerce.number() })],
    ['a __proto__ key', z.object({ ['__proto__']: z.string() })],
    [
      'a recursive shape',
      (() => {
        const Node: z.ZodType = z.object({
          get child() {
            return Node.optional();
          },
        });
        return Node;
      })(),
    ],
    [
      'a non-zod Standard Schema',
      { '~standard': { version: 1, vendor: 'x', validate: (v: unknown) => ({ value: v }) } },
    ],
  ])('when the schema has %s, there is no fast path (zod parses every value)', (_name, schema) => {
    expect(compileSchemaFastPath(schema)).toBeUndefined();
  });
});
