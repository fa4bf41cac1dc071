import { LogarithmicMapping } from '@datadog/sketches-js/dist/ddsketch/mapping';
import { finiteNumber, type ColumnAggregate } from './columnAggregate';
import { PipelineDefinitionError, StateDeserializationError } from '../errors';

/** Relative accuracy of the DDSketch behind {@link percentile}. */
export const PERCENTILE_RELATIVE_ACCURACY = 0.01;
/**
 * Bins per sign. Keeps the stored state bounded (≤ ~10 KB base64 even for hostile inputs spanning the
 * whole double range; about 0.8 KB for 20,000 values between 0 and 5,000); 2048 bins at 1% accuracy cover a dynamic range of
 * 1.0202^2048 ≈ 6·10^17, beyond which the lowest bins collapse and only the lowest quantiles lose accuracy.
 */
export const PERCENTILE_BIN_LIMIT = 2048;
/** Stated error bound of {@link percentile}. */
export const PERCENTILE_ERROR_BOUND =
  "DDSketch: within 1% relative error of DuckDB's quantile_disc(x, q), the value at rank max(1, ⌈q·n⌉) of the n sorted values (zeros exact; 2048 bins per sign: magnitudes more than 6e17× below the largest of their sign collapse upwards)";

/**
 * DDSketch's logarithmic key mapping (γ = 1.01/0.99): key(v) = ⌈log_γ v⌉, and value(key) lies within 1% of
 * every value with that key. Taken from @datadog/sketches-js so that stored keys are the library's; the
 * stores are kept here: the library's collapsing store (2.1.1) counts a boundary bin twice when it
 * collapses, and its merge of stores whose ranges collapse differently writes NaN bins, which made such
 * stored states unreadable. Ranks must count exactly to match DuckDB's.
 */
// The mapping `LogCollapsingLowestDenseDDSketch` builds (`new LogarithmicMapping(relativeAccuracy)`), imported
// from its own module: the package index also loads the protobuf serialisation, which shardflow never uses.
const MAPPING = new LogarithmicMapping(PERCENTILE_RELATIVE_ACCURACY);
/** Values with |v| at or below this (~1.1e-308) count as zero. */
const MIN_POSSIBLE = MAPPING.minPossible;
/** Bins are allocated in chunks of this many (spare room centred around the keys), as the library does. */
const CHUNK = 128;

/**
 * The bins of one sign: `bins[key − offset]` counts the values with that key (of |v| for negatives), for
 * keys `minKey..maxKey`, `count` in all. Collapsing-lowest with a limit of {@link PERCENTILE_BIN_LIMIT}:
 * every key below `maxKey − 2047` is counted in the bin `maxKey − 2047` (= `minKey`). That rule depends only
 * on the multiset of keys, so `add`, `addColumn` and `merge` in any order and split give the same bins.
 */
interface Bins {
  bins: Float64Array;
  offset: number;
  minKey: number;
  maxKey: number;
  count: number;
}

/** In-memory state of {@link percentile}: positive and negative bins, zeros, and `count` of all three. */
export interface PercentileState {
  readonly positive: Bins;
  readonly negative: Bins;
  zeros: number;
  count: number;
}

const NO_BINS = new Float64Array(0);
const newBins = (): Bins => ({ bins: NO_BINS, offset: 0, minKey: 0, maxKey: 0, count: 0 });
const newState = (): PercentileState => ({ positive: newBins(), negative: newBins(), zeros: 0, count: 0 });

/**
 * Makes `b` hold keys `lo..hi` besides its own: extends `minKey..maxKey`, folds the keys that fall below
 * the collapse floor (`maxKey − 2047`) into the floor bin, and reallocates the bins only when the range
 * leaves the allocated array.
 */
function ensureRange(b: Bins, lo: number, hi: number): void {
  const empty = b.count === 0;
  const maxKey = empty ? hi : Math.max(b.maxKey, hi);
  const minKey = Math.max(empty ? lo : Math.min(b.minKey, lo), maxKey - PERCENTILE_BIN_LIMIT + 1);
  if (!empty && minKey === b.minKey && maxKey === b.maxKey) return;
  if (minKey >= b.offset && maxKey < b.offset + b.bins.length) {
    if (!empty && minKey > b.minKey) {
      let folded = 0;
      for (let k = b.minKey; k < minKey; k++) {
        folded += b.bins[k - b.offset]!;
        b.bins[k - b.offset] = 0;
      }
      b.bins[minKey - b.offset]! += folded;
    }
  } else {
    const width = maxKey - minKey + 1;
    const length = Math.min(Math.ceil(width / CHUNK) * CHUNK, PERCENTILE_BIN_LIMIT);
    const offset = minKey - Math.floor((length - width) / 2);
    const bins = new Float64Array(length);
    if (!empty) {
      for (let k = b.minKey; k <= b.maxKey; k++) {
        const c = b.bins[k - b.offset]!;
        if (c > 0) bins[Math.max(k, minKey) - offset]! += c;
      }
    }
    b.bins = bins;
    b.offset = offset;
  }
  b.minKey = minKey;
  b.maxKey = maxKey;
}

function addKey(b: Bins, key: number, count: number): void {
  ensureRange(b, key, key);
  b.bins[Math.max(key, b.minKey) - b.offset]! += count;
  b.count += count;
}

function addValue(state: PercentileState, v: number): PercentileState {
  if (v > MIN_POSSIBLE) addKey(state.positive, MAPPING.key(v), 1);
  else if (v < -MIN_POSSIBLE) addKey(state.negative, MAPPING.key(-v), 1);
  else state.zeros++;
  state.count++;
  return state;
}

/** Adds `other` into `state` (`other` is left unchanged and shares nothing with the result). */
function mergeState(state: PercentileState, other: PercentileState): PercentileState {
  mergeBins(state.positive, other.positive);
  mergeBins(state.negative, other.negative);
  state.zeros += other.zeros;
  state.count += other.count;
  return state;
}

function mergeBins(into: Bins, other: Bins): void {
  if (other.count === 0) return;
  ensureRange(into, other.minKey, other.maxKey);
  for (let k = other.minKey; k <= other.maxKey; k++) {
    const c = other.bins[k - other.offset]!;
    if (c > 0) into.bins[Math.max(k, into.minKey) - into.offset]! += c;
  }
  into.count += other.count;
}

// Scratch reused across calls (combine runs synchronously): the key of each value and its sign.
let keyScratch = new Int32Array(1024);
let signScratch = new Int8Array(1024);

/**
 * Adds `rows[r][column]` for every row, leaving the bins repeated `add` leaves: keys are computed once per
 * value, each sign's bins are sized once for the batch's key range, then each value counted.
 */
function addColumn(
  state: PercentileState,
  rows: readonly (readonly unknown[])[],
  column: number,
): PercentileState {
  const n = rows.length;
  if (n === 0) return state;
  if (keyScratch.length < n) {
    keyScratch = new Int32Array(Math.max(n, keyScratch.length * 2));
    signScratch = new Int8Array(keyScratch.length);
  }
  const keys = keyScratch;
  const signs = signScratch;
  let posLo = Infinity;
  let posHi = -Infinity;
  let negLo = Infinity;
  let negHi = -Infinity;
  let zeros = 0;
  for (let r = 0; r < n; r++) {
    const v = rows[r]![column] as number;
    if (v > MIN_POSSIBLE) {
      const k = MAPPING.key(v);
      keys[r] = k;
      signs[r] = 1;
      if (k < posLo) posLo = k;
      if (k > posHi) posHi = k;
    } else if (v < -MIN_POSSIBLE) {
      const k = MAPPING.key(-v);
      keys[r] = k;
      signs[r] = -1;
      if (k < negLo) negLo = k;
      if (k > negHi) negHi = k;
    } else {
      signs[r] = 0;
      zeros++;
    }
  }
  if (posHi >= posLo) addKeys(state.positive, keys, signs, n, 1, posLo, posHi);
  if (negHi >= negLo) addKeys(state.negative, keys, signs, n, -1, negLo, negHi);
  state.zeros += zeros;
  state.count += n;
  return state;
}

function addKeys(
  b: Bins,
  keys: Int32Array,
  signs: Int8Array,
  n: number,
  sign: number,
  lo: number,
  hi: number,
): void {
  ensureRange(b, lo, hi);
  const bins = b.bins;
  const floor = b.minKey;
  const offset = b.offset;
  let count = 0;
  for (let r = 0; r < n; r++) {
    if (signs[r] !== sign) continue;
    const k = keys[r]!;
    bins[(k > floor ? k : floor) - offset]!++;
    count++;
  }
  b.count += count;
}

/**
 * Approximate quantile `q` (0..1) of a numeric field, from a DDSketch (relative accuracy 1%); null for an
 * empty window. Output column type `double`.
 *
 * Rank rule: DuckDB's `quantile_disc(x, q)` (what `shardflow query` runs), i.e. the element at 1-based rank
 * `max(1, ⌈q · n⌉)` of the n sorted inputs (q = 0 the minimum, q = 1 the maximum), with `q · n` computed
 * exactly on q's decimal form, as DuckDB does for a decimal literal such as `0.95`. The result is within 1%
 * relative error of that element: for positive and negative values alike (negatives sit in a mirrored
 * store), and exactly 0 when it is zero (values with |v| ≤ ~1.1e-308 count as zero). The only exception:
 * each sign keeps 2048 bins, a dynamic range of ~6e17; magnitudes further below the largest of their sign
 * collapse into the lowest kept bin, so a quantile that lands on one of them reads a larger magnitude.
 * Ranks count exactly across merges and stored states, so the rank is DuckDB's over the same values.
 * (With a DOUBLE argument, `quantile_disc(x, 0.56::DOUBLE)`, DuckDB rounds `q · n` in floating point and
 * can pick the next rank when `q · n` is within rounding of an integer.)
 *
 * Stored compactly (varint-encoded non-empty bins, base64).
 *
 * @example .aggregate({ p95_duration_ms: percentile((e) => e.durationMs, 0.95) })
 */
export function percentile<T>(
  fn: (value: T) => number,
  q: number,
): ColumnAggregate<T, number, PercentileState, number | null> {
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw new PipelineDefinitionError(
      `percentile quantile must be between 0 and 1 inclusive (given ${String(q)})`,
    );
  }
  const rank = decimalRank(q);
  return {
    kind: 'percentile',
    outputType: 'double',
    errorBound: PERCENTILE_ERROR_BOUND,
    // The quantile only reads the sketch: a changed q reads the same stored state.
    params: { relativeAccuracy: PERCENTILE_RELATIVE_ACCURACY },
    input: fn,
    validate: finiteNumber,
    create: newState,
    add: addValue,
    addColumn,
    merge: mergeState,
    serialize: encodeState,
    deserialize: (stored) => {
      const state = typeof stored === 'string' ? decodeState(stored) : undefined;
      if (state === undefined)
        throw new StateDeserializationError('percentile state is not a valid encoded DDSketch');
      return state;
    },
    result: (state) => valueAtRank(state, rank),
  };
}

/**
 * DuckDB's `quantile_disc` rank for quantile `q`: a function from n ≥ 1 to the 0-based index
 * `max(1, ⌈q · n⌉) − 1`, with `q · n` exact on q's shortest decimal form (`String(q)`, e.g. `0.07` rather
 * than the double 0.07000000000000000666…): `Math.ceil(100 * 0.07)` is 8 in floating point, DuckDB says 7.
 */
export function decimalRank(q: number): (n: number) => number {
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(q));
  if (m === null) throw new PipelineDefinitionError(`percentile quantile ${String(q)} has no decimal form`);
  const digits = `${m[1]!}${m[2] ?? ''}`;
  const exponent = Number(m[3] ?? 0) - (m[2] ?? '').length;
  const numerator = BigInt(digits) * (exponent > 0 ? 10n ** BigInt(exponent) : 1n);
  const denominator = exponent < 0 ? 10n ** BigInt(-exponent) : 1n;
  return (n) => Math.max(1, Number((numerator * BigInt(n) + denominator - 1n) / denominator)) - 1;
}

/**
 * The sketch's value for the element at 0-based rank `rank(n)` of the sorted inputs: negatives (largest
 * magnitude first), then zeros, then positives. Null when the sketch is empty.
 */
function valueAtRank(state: PercentileState, rank: (n: number) => number): number | null {
  const n = state.count;
  if (n === 0) return null;
  const k = Math.min(rank(n), n - 1);
  const negatives = state.negative.count;
  if (k < negatives) return -keyValue(keyAtRank(state.negative, negatives - 1 - k));
  if (k < negatives + state.zeros) return 0;
  return keyValue(keyAtRank(state.positive, k - negatives - state.zeros));
}

/** The bin's representative value; the top bins of the double range would overflow to Infinity. */
const keyValue = (key: number): number => Math.min(MAPPING.value(key), Number.MAX_VALUE);

/** Key of the bin holding the element at 0-based rank `r` (ascending keys) of `b`. */
function keyAtRank(b: Bins, r: number): number {
  let running = 0;
  for (let k = b.minKey; k <= b.maxKey; k++) {
    running += b.bins[k - b.offset]!;
    if (running > r) return k;
  }
  return b.maxKey;
}

/** Version tag of the stored form; bump it if the mapping (relative accuracy) ever changes. */
const SKETCH_FORMAT = 1;

/**
 * Compact stored form: base64 of varints `[format, zeros, positive bins, negative bins]`, each bin list
 * as `n, (zigzag key delta, count) × n` over the non-empty bins only, keys ascending. About one to three
 * bytes per non-empty bin, where the library's protobuf (`toProto`) stores every bin of the dense range as
 * an 8-byte double; typical window states shrink about 7×, which matters for DynamoDB item size and cost.
 * Canonical: the same multiset of values gives the same string.
 */
function encodeState(state: PercentileState): string {
  const out: number[] = [SKETCH_FORMAT];
  writeVarint(out, state.zeros);
  writeBins(out, state.positive);
  writeBins(out, state.negative);
  return Buffer.from(out).toString('base64');
}

function writeBins(out: number[], b: Bins): void {
  let n = 0;
  if (b.count > 0) for (let k = b.minKey; k <= b.maxKey; k++) if (b.bins[k - b.offset]! > 0) n++;
  writeVarint(out, n);
  if (n === 0) return;
  let prev = 0;
  for (let k = b.minKey; k <= b.maxKey; k++) {
    const count = b.bins[k - b.offset]!;
    if (count <= 0) continue;
    writeVarint(out, k - prev >= 0 ? 2 * (k - prev) : -2 * (k - prev) - 1);
    writeVarint(out, count);
    prev = k;
  }
}

function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/**
 * Parses {@link encodeState} output; undefined when malformed or not canonical (keys not strictly
 * ascending, or spanning more than {@link PERCENTILE_BIN_LIMIT} bins, which no state holds).
 */
function decodeState(stored: string): PercentileState | undefined {
  const bytes = Buffer.from(stored, 'base64');
  const pos = { i: 0 };
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (let k = 0; k < 8; k++) {
      if (pos.i >= bytes.length) return -1;
      const b = bytes[pos.i++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result <= Number.MAX_SAFE_INTEGER ? result : -1;
      scale *= 128;
    }
    return -1;
  };
  if (readVarint() !== SKETCH_FORMAT) return undefined;
  const state = newState();
  const zeros = readVarint();
  if (zeros < 0) return undefined;
  state.zeros = zeros;
  state.count = zeros;
  const keys: number[] = [];
  const counts: number[] = [];
  for (const b of [state.positive, state.negative]) {
    const n = readVarint();
    if (n < 0 || n > PERCENTILE_BIN_LIMIT) return undefined;
    keys.length = 0;
    counts.length = 0;
    let key = 0;
    for (let j = 0; j < n; j++) {
      const delta = readVarint();
      const count = readVarint();
      if (delta < 0 || count < 1) return undefined;
      key += delta % 2 === 0 ? delta / 2 : -(delta + 1) / 2;
      if (Math.abs(key) > 2 ** 31 || (j > 0 && key <= keys[j - 1]!)) return undefined;
      keys.push(key);
      counts.push(count);
    }
    if (n === 0) continue;
    if (keys[n - 1]! - keys[0]! >= PERCENTILE_BIN_LIMIT) return undefined;
    ensureRange(b, keys[0]!, keys[n - 1]!);
    for (let j = 0; j < n; j++) b.bins[keys[j]! - b.offset] = counts[j]!;
    for (const c of counts) b.count += c;
    state.count += b.count;
  }
  if (!Number.isSafeInteger(state.count)) return undefined;
  return pos.i === bytes.length ? state : undefined;
}
