/**
 * A compiled fast path for the clean stage's schema (DESIGN.md §1 "clean"): for a zod 4 schema of the common
 * shapes (objects that strip unknown keys, strings with length and format checks, finite numbers with bounds
 * and integer formats, booleans, enums, literals, optional and nullable fields), one generated function that
 * accepts a value zod accepts and returns the very output zod's parse returns (a fresh object, keys in shape
 * order, unknown keys stripped, absent optional keys omitted). Anything it does not accept, and any schema it
 * does not understand, goes to the schema itself, so `rejected/` reasons stay zod's messages. (A check with a
 * custom `when` that makes zod skip it is still applied here: a value only it refuses goes to zod, which
 * accepts it; the answer is zod's either way.)
 *
 * Why by hand: `z.compile` generates the same kind of code, but it is reached through the Standard Schema
 * `validate` wrapper, which allocates a context, a payload and a result per record, and it checks date-times
 * with zod's regular expression, after which the pipeline's `eventTime` parses the same string again. Here
 * date-times are checked by `parseIsoDateTime` (exactly the same strings, see its tests), which remembers its
 * answer, so `eventTime` reading the same string costs one comparison; and the output object is one
 * literal. Every rule below mirrors zod 4's runtime (`$ZodObject`, `$ZodString`, `$ZodNumber`, the length,
 * bound, format and number-format checks); `test/unit/core/engine/schemaFastPath.test.ts` checks that the fast
 * path and zod agree on acceptance and output for random and hostile values.
 */
import * as isoDateTime from '../isoDateTime';

const { parseIsoDateTime } = isoDateTime;

/** What a fast path returns for a value it does not accept: ask the schema (zod's answer, zod's message). */
export const NOT_ACCEPTED: unique symbol = Symbol('shardflow.schemaFastPath.notAccepted');

/** The parsed value zod's parse returns, or {@link NOT_ACCEPTED}. */
export type SchemaFastPath = (value: unknown) => unknown;

/** The parts of a zod 4 schema (`schema._zod`) the compiler reads. */
interface ZodInternals {
  readonly def: ZodDef;
  readonly values?: unknown;
  readonly optin?: unknown;
  readonly optout?: unknown;
}

interface ZodDef {
  readonly type?: unknown;
  readonly checks?: unknown;
  readonly [field: string]: unknown;
}

/**
 * zod's `regexes.datetime({ offset: true })` (no precision, no local form): exactly what `parseIsoDateTime`
 * accepts (`test/unit/core/isoDateTime.test.ts` pins that against zod).
 */
const DATETIME_OFFSET_SOURCE =
  '^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d)))$';

/**
 * String formats zod checks with their pattern alone (`$ZodCheckStringFormat`'s default check: reset
 * `lastIndex`, `pattern.test`); other formats (URL, IPv6, JWT, base64, ...) run more code and are not
 * compiled.
 */
const PATTERN_FORMATS: ReadonlySet<unknown> = new Set([
  'regex',
  'uuid',
  'guid',
  'email',
  'datetime',
  'date',
  'time',
  'lowercase',
  'uppercase',
]);

/** zod's `NUMBER_FORMAT_RANGES`, and which formats are integers (`Number.isSafeInteger` first). */
const NUMBER_FORMATS: Readonly<Record<string, readonly [number, number, boolean]>> = {
  safeint: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true],
  int32: [-2147483648, 2147483647, true],
  uint32: [0, 4294967295, true],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38, false],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE, false],
};

/** Deepest schema nesting compiled (a deeper or recursive schema keeps zod's parser). */
const MAX_DEPTH = 32;

/** Length in Unicode code points, as zod's length checks count it (a lone surrogate counts as one). */
export function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/** Whether `s` is a date-time zod's `z.iso.datetime({ offset: true })` accepts. */
function isDateTime(s: string): boolean {
  // NaN is the only value not equal to itself.
  const t = parseIsoDateTime(s);
  return t === t;
}

/** The generated function's text and the values it closes over (never written into the text). */
class Emitter {
  public readonly lines: string[] = [];
  /** Declarations made once, outside the generated function (the constructors of `emitObject`). */
  public readonly declarations: string[] = [];
  public readonly constants: unknown[] = [];
  #variables = 0;

  public constant(value: unknown): string {
    this.constants.push(value);
    return `k${this.constants.length - 1}`;
  }

  public variable(): string {
    return `v${this.#variables++}`;
  }

  public line(text: string): void {
    this.lines.push(text);
  }
}

function internalsOf(schema: unknown): ZodInternals | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const zod = (schema as { _zod?: unknown })._zod;
  if (typeof zod !== 'object' || zod === null) return undefined;
  const def = (zod as { def?: unknown }).def;
  return typeof def === 'object' && def !== null ? (zod as ZodInternals) : undefined;
}

/** The schema's checks as their defs (a format schema such as `z.uuid()` is a check of itself). */
function checksOf(def: ZodDef): ZodDef[] | undefined {
  const own = def.check !== undefined ? [def] : [];
  const attached = def.checks ?? [];
  if (!Array.isArray(attached)) return undefined;
  const defs: ZodDef[] = [];
  for (const check of attached as unknown[]) {
    const internals = internalsOf(check);
    if (internals === undefined) return undefined;
    defs.push(internals.def);
  }
  return [...own, ...defs];
}

const NO = 'NO';

/**
 * Emits the checks of the value in variable `x` against `schema` and returns the expression of its output,
 * or undefined when the schema has something the fast path does not model.
 */
function emit(e: Emitter, schema: unknown, x: string, path: readonly unknown[]): string | undefined {
  if (path.length > MAX_DEPTH || path.includes(schema)) return undefined;
  const zod = internalsOf(schema);
  if (zod === undefined) return undefined;
  const def = zod.def;
  const within = [...path, schema];
  const checks = checksOf(def);
  if (checks === undefined) return undefined;
  switch (def.type) {
    case 'string':
      return def.coerce === true ? undefined : emitString(e, checks, x);
    case 'number':
      return def.coerce === true ? undefined : emitNumber(e, checks, x);
    case 'boolean':
      if (def.coerce === true || checks.length > 0) return undefined;
      e.line(`if (typeof ${x} !== "boolean") return ${NO};`);
      return x;
    case 'enum':
    case 'literal': {
      const values = zod.values;
      if (checks.length > 0 || !(values instanceof Set) || values.has(undefined)) return undefined;
      e.line(`if (!${e.constant(values)}.has(${x})) return ${NO};`);
      return x;
    }
    case 'nullable':
    case 'optional': {
      if (checks.length > 0) return undefined;
      const inner = internalsOf(def.innerType);
      if (inner === undefined || inner.optin === 'defaulted') return undefined;
      const out = e.variable();
      const empty = def.type === 'nullable' ? 'null' : 'undefined';
      e.line(`let ${out} = ${empty};`);
      e.line(`if (${x} !== ${empty}) {`);
      const value = emit(e, def.innerType, x, within);
      if (value === undefined) return undefined;
      e.line(`${out} = ${value};`);
      e.line('}');
      return out;
    }
    case 'object':
      return checks.length > 0 || def.catchall !== undefined ? undefined : emitObject(e, def, x, within);
    default:
      return undefined;
  }
}

function emitString(e: Emitter, checks: readonly ZodDef[], x: string): string | undefined {
  e.line(`if (typeof ${x} !== "string") return ${NO};`);
  for (const check of checks) {
    const kind = check.check;
    if (kind === 'min_length' && typeof check.minimum === 'number') {
      // zod counts code points, and counts them only where units and code points can disagree.
      const min = e.constant(check.minimum);
      e.line(
        `if (${x}.length < 2 * ${min} && (${x}.length < ${min} || codePoints(${x}) < ${min})) return ${NO};`,
      );
    } else if (kind === 'max_length' && typeof check.maximum === 'number') {
      const max = e.constant(check.maximum);
      e.line(`if (${x}.length > ${max} && codePoints(${x}) > ${max}) return ${NO};`);
    } else if (kind === 'length_equals' && typeof check.length === 'number') {
      const n = e.constant(check.length);
      e.line(`if (${x}.length < ${n} || ${x}.length > 2 * ${n} || codePoints(${x}) !== ${n}) return ${NO};`);
    } else if (
      kind === 'string_format' &&
      PATTERN_FORMATS.has(check.format) &&
      check.pattern instanceof RegExp
    ) {
      const pattern = check.pattern;
      if (pattern.flags === '' && pattern.source === DATETIME_OFFSET_SOURCE)
        e.line(`if (!isDateTime(${x})) return ${NO};`);
      else {
        const re = e.constant(pattern);
        e.line(`${re}.lastIndex = 0;`);
        e.line(`if (!${re}.test(${x})) return ${NO};`);
      }
    } else {
      return undefined;
    }
  }
  return x;
}

function emitNumber(e: Emitter, checks: readonly ZodDef[], x: string): string | undefined {
  e.line(`if (typeof ${x} !== "number" || !Number.isFinite(${x})) return ${NO};`);
  for (const check of checks) {
    const kind = check.check;
    if ((kind === 'greater_than' || kind === 'less_than') && typeof check.value === 'number') {
      const inclusive = check.inclusive === true;
      const op = kind === 'greater_than' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
      e.line(`if (!(${x} ${op} ${e.constant(check.value)})) return ${NO};`);
    } else if (
      kind === 'number_format' &&
      typeof check.format === 'string' &&
      check.format in NUMBER_FORMATS
    ) {
      const [min, max, integer] = NUMBER_FORMATS[check.format]!;
      if (integer) e.line(`if (!Number.isSafeInteger(${x})) return ${NO};`);
      e.line(`if (${x} < ${e.constant(min)} || ${x} > ${e.constant(max)}) return ${NO};`);
    } else {
      return undefined;
    }
  }
  return x;
}

/**
 * An object that strips unknown keys (zod's default `z.object`). Per key, as `$ZodObject` does: read
 * `input[key]` (own or inherited), check it; an optional key absent from the input (`key in input` false) is
 * left out of the output, present with `undefined` it is written as `undefined`; required keys are always
 * written. `__proto__` and symbol keys are not compiled (zod skips the former).
 */
function emitObject(e: Emitter, def: ZodDef, x: string, path: readonly unknown[]): string | undefined {
  const shape = def.shape;
  if (typeof shape !== 'object' || shape === null) return undefined;
  if (Object.getOwnPropertySymbols(shape).length > 0) return undefined;
  const keys = Object.keys(shape);
  if (keys.includes('__proto__')) return undefined;
  e.line(`if (typeof ${x} !== "object" || ${x} === null || Array.isArray(${x})) return ${NO};`);
  const fields: { key: string; value: string; optional: boolean }[] = [];
  for (const key of keys) {
    const field = (shape as Record<string, unknown>)[key];
    const zod = internalsOf(field);
    if (zod === undefined) return undefined;
    const name = JSON.stringify(key);
    const raw = e.variable();
    e.line(`const ${raw} = ${x}[${name}];`);
    if (zod.optin === undefined && zod.optout === undefined) {
      const value = emit(e, field, raw, path);
      if (value === undefined) return undefined;
      fields.push({ key: name, value, optional: false });
    } else if (zod.optin === 'optional' && zod.optout === 'optional') {
      const out = e.variable();
      e.line(`let ${out} = ABSENT;`);
      e.line(`if (${name} in ${x}) {`);
      const value = emit(e, field, raw, path);
      if (value === undefined) return undefined;
      e.line(`${out} = ${value};`);
      e.line('}');
      fields.push({ key: name, value: out, optional: true });
    } else {
      return undefined;
    }
  }
  // Made by a constructor whose prototype is Object.prototype, not by a literal: the value is a plain object
  // as zod's is, and it lives until its batch ends (the `clean/` archive), so a literal site would be switched
  // to old-generation allocation (`batchObjects.ts`).
  const out = e.variable();
  const make = `O${e.declarations.length}`;
  if (fields.every((f) => !f.optional)) {
    const params = fields.map((_, i) => `a${i}`);
    e.declarations.push(
      `function ${make}(${params.join(', ')}) { ${fields.map((f, i) => `this[${f.key}] = a${i};`).join(' ')} }`,
      `${make}.prototype = Object.prototype;`,
    );
    e.line(`const ${out} = new ${make}(${fields.map((f) => f.value).join(', ')});`);
    return out;
  }
  // With optional fields the keys go in shape order, each optional one only when present.
  e.declarations.push(`function ${make}() {}`, `${make}.prototype = Object.prototype;`);
  e.line(`const ${out} = new ${make}();`);
  for (const f of fields) {
    if (f.optional) e.line(`if (${f.value} !== ABSENT) ${out}[${f.key}] = ${f.value};`);
    else e.line(`${out}[${f.key}] = ${f.value};`);
  }
  return out;
}

/**
 * The fast path of `schema`, or undefined when it is not a zod 4 schema, has anything the fast path does not
 * model (transforms, refinements, defaults, catch-alls, unions, arrays, other formats, ...) or the runtime
 * forbids generated code.
 */
export function compileSchemaFastPath(schema: unknown): SchemaFastPath | undefined {
  try {
    const e = new Emitter();
    const out = emit(e, schema, 'input', []);
    if (out === undefined) return undefined;
    const names = ['NO', 'ABSENT', 'isDateTime', 'codePoints', ...e.constants.map((_, i) => `k${i}`)];
    const body = `"use strict";\n${e.declarations.join('\n')}\nreturn (input) => {\n${e.lines.join('\n')}\nreturn ${out};\n};`;
    const factory = new Function(...names, body) as (...values: unknown[]) => SchemaFastPath;
    return factory(NOT_ACCEPTED, Symbol('absent'), isDateTime, codePoints, ...e.constants);
  } catch {
    // A shape getter that throws, or code generation refused (--disallow-code-generation-from-strings).
    return undefined;
  }
}
