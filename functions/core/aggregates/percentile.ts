import { LogCollapsingLowestDenseDDSketch, type DDSketch } from '@datadog/sketches-js';
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
  'DDSketch: relative error ≤ 1% of the true quantile value (2048 bins; values more than 6e17× below the maximum collapse)';

type Sketch = DDSketch;
const newSketch = (): Sketch =>
  new LogCollapsingLowestDenseDDSketch({
    relativeAccuracy: PERCENTILE_RELATIVE_ACCURACY,
    binLimit: PERCENTILE_BIN_LIMIT,
  }) as unknown as Sketch;

/** Adds `other` into `state`. DDSketch.merge in @datadog/sketches-js 2.1.1 forgets the negative store. */
function mergeSketch(state: Sketch, other: Sketch): Sketch {
  if (other.count === 0) return state;
  state.store.merge(other.store);
  state.negativeStore.merge(other.negativeStore);
  state.zeroCount += other.zeroCount;
  state.count += other.count;
  return state;
}

// Scratch reused across calls (combine runs synchronously): the key of each value, its sign, and the
// per-key counts of one store.
let keyScratch = new Int32Array(1024);
let signScratch = new Int8Array(1024);
const countScratch = new Float64Array(PERCENTILE_BIN_LIMIT);

/**
 * Adds `rows[r][column]` for every row with the same effect on the bins as repeated `accept`, without
 * the library's per-value range extensions: each extension re-centres the dense bins with array copies
 * (`slice` + `unshift`), which made a fresh window's sketch cost ~8 µs before its first value counted.
 * Keys are computed once per value, then each store is filled for the batch's whole key range at once
 * (see {@link addKeys}). Bins, counts and quantiles are exactly those of one-by-one `accept`.
 */
function addColumnToSketch(state: Sketch, rows: readonly (readonly unknown[])[], column: number): Sketch {
  const n = rows.length;
  if (n === 0) return state;
  if (keyScratch.length < n) {
    keyScratch = new Int32Array(Math.max(n, keyScratch.length * 2));
    signScratch = new Int8Array(keyScratch.length);
  }
  const keys = keyScratch;
  const signs = signScratch;
  const mapping = state.mapping;
  const minPossible = mapping.minPossible;
  let posLo = Infinity;
  let posHi = -Infinity;
  let negLo = Infinity;
  let negHi = -Infinity;
  let zeros = 0;
  let sum = state.sum;
  let min = state.min;
  let max = state.max;
  for (let r = 0; r < n; r++) {
    const v = rows[r]![column] as number;
    if (v > minPossible) {
      const k = mapping.key(v);
      keys[r] = k;
      signs[r] = 1;
      if (k < posLo) posLo = k;
      if (k > posHi) posHi = k;
    } else if (v < -minPossible) {
      const k = mapping.key(-v);
      keys[r] = k;
      signs[r] = -1;
      if (k < negLo) negLo = k;
      if (k > negHi) negHi = k;
    } else {
      signs[r] = 0;
      zeros++;
    }
    // The summary statistics `accept` keeps (not stored, not used for quantiles).
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (posHi >= posLo) addKeys(state.store, keys, signs, n, 1, posLo, posHi);
  if (negHi >= negLo) addKeys(state.negativeStore, keys, signs, n, -1, negLo, negHi);
  state.zeroCount += zeros;
  state.count += n;
  state.sum = sum;
  state.min = min;
  state.max = max;
  return state;
}

/**
 * Adds the keys of sign `sign` (all within `lo..hi`) to `store`. An empty store (every fresh window state
 * in `combine`) is filled in one step: the bins for `lo..hi` are counted into an array laid out as the
 * library lays out a store for that range (length rounded up to its chunk size, range centred) and
 * installed with the store's own `copy`. Otherwise the store is sized once for the range and each
 * distinct key added once with its count.
 */
function addKeys(
  store: Store,
  keys: Int32Array,
  signs: Int8Array,
  n: number,
  sign: number,
  lo: number,
  hi: number,
): void {
  const width = hi - lo + 1;
  if (store.count === 0 && store.bins.length === 0 && width <= PERCENTILE_BIN_LIMIT) {
    const length = Math.min(Math.ceil(width / store.chunkSize) * store.chunkSize, PERCENTILE_BIN_LIMIT);
    const offset = lo + Math.floor(width / 2) - Math.floor(length / 2);
    const bins = new Array<number>(length).fill(0);
    let count = 0;
    for (let r = 0; r < n; r++) {
      if (signs[r] === sign) {
        bins[keys[r]! - offset]!++;
        count++;
      }
    }
    store.copy({ bins, count, minKey: lo, maxKey: hi, offset, isCollapsed: false } as unknown as Store);
    return;
  }
  // When the stored keys and these span more bins than the limit, the store collapses its lowest bins,
  // and the library's collapse depends on the order keys arrive in (in 2.1.1 it also counts the boundary
  // bin twice): then add value by value, in row order, exactly as `accept` would.
  const storedLo = store.count > 0 ? Math.min(lo, store.minKey) : lo;
  const storedHi = store.count > 0 ? Math.max(hi, store.maxKey) : hi;
  if (storedHi - storedLo + 1 > PERCENTILE_BIN_LIMIT) {
    for (let r = 0; r < n; r++) if (signs[r] === sign) store.add(keys[r]!, 1);
    return;
  }
  // No collapse can happen: size the store once for the whole range, then add each key's count.
  store.add(hi, 0);
  if (lo !== hi) store.add(lo, 0);
  const counts = countScratch;
  counts.fill(0, 0, width);
  for (let r = 0; r < n; r++) if (signs[r] === sign) counts[keys[r]! - lo]!++;
  for (let i = 0; i < width; i++) {
    const c = counts[i]!;
    if (c > 0) store.add(lo + i, c);
  }
}

/**
 * Approximate quantile `q` (0..1) of a numeric field, from a DDSketch (relative accuracy 1%); null for an
 * empty window. The quantile is the lower one: the value at rank `floor(q · (n − 1))` of the sorted
 * inputs, returned within 1% relative error. Stored compactly (varint-encoded non-empty bins, base64).
 * Output column type `double`.
 *
 * @example .aggregate({ p95_duration_ms: percentile((e) => e.durationMs, 0.95) })
 */
export function percentile<T>(
  fn: (value: T) => number,
  q: number,
): ColumnAggregate<T, number, Sketch, number | null> {
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw new PipelineDefinitionError(
      `percentile quantile must be between 0 and 1 inclusive (given ${String(q)})`,
    );
  }
  return {
    kind: 'percentile',
    outputType: 'double',
    errorBound: PERCENTILE_ERROR_BOUND,
    input: fn,
    validate: finiteNumber,
    create: newSketch,
    add: (state, input) => {
      state.accept(input);
      return state;
    },
    addColumn: addColumnToSketch,
    merge: mergeSketch,
    serialize: encodeSketch,
    deserialize: (stored) => {
      const state = typeof stored === 'string' ? decodeSketch(stored) : undefined;
      if (state === undefined)
        throw new StateDeserializationError('percentile state is not a valid encoded DDSketch');
      return state;
    },
    result: (state) => (state.count === 0 ? null : state.getValueAtQuantile(q)),
  };
}

/** Version tag of the stored form; bump it if the mapping (relative accuracy) ever changes. */
const SKETCH_FORMAT = 1;
type Store = DDSketch['store'];

/**
 * Compact stored form: base64 of varints `[format, zeroCount, positive bins, negative bins]`, each bin list
 * as `n, (zigzag key delta, count) × n` over the non-empty bins only. About one to three bytes per
 * non-empty bin, where the library's protobuf (`toProto`) stores every bin of the dense range as an
 * 8-byte double; typical window states shrink about 7×, which matters for DynamoDB item size and cost.
 */
function encodeSketch(state: Sketch): string {
  const out: number[] = [SKETCH_FORMAT];
  writeVarint(out, state.zeroCount);
  writeStore(out, state.store);
  writeStore(out, state.negativeStore);
  return Buffer.from(out).toString('base64');
}

function writeStore(out: number[], store: Store): void {
  let n = 0;
  for (let i = 0; i < store.bins.length; i++) if (store.bins[i]! > 0) n++;
  writeVarint(out, n);
  let prev = 0;
  for (let i = 0; i < store.bins.length; i++) {
    const count = store.bins[i]!;
    if (count <= 0) continue;
    const key = i + store.offset;
    writeVarint(out, key - prev >= 0 ? 2 * (key - prev) : -2 * (key - prev) - 1);
    writeVarint(out, count);
    prev = key;
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

/** Parses {@link encodeSketch} output into a bounded sketch; undefined when malformed. */
function decodeSketch(stored: string): Sketch | undefined {
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
  const state = newSketch();
  const zeros = readVarint();
  if (zeros < 0) return undefined;
  state.zeroCount = zeros;
  state.count = zeros;
  for (const store of [state.store, state.negativeStore]) {
    const n = readVarint();
    if (n < 0 || n > 1_000_000) return undefined;
    let key = 0;
    for (let j = 0; j < n; j++) {
      const delta = readVarint();
      const count = readVarint();
      if (delta < 0 || count < 1) return undefined;
      key += delta % 2 === 0 ? delta / 2 : -(delta + 1) / 2;
      if (Math.abs(key) > 2 ** 31) return undefined;
      store.add(key, count);
      state.count += count;
    }
  }
  return pos.i === bytes.length ? state : undefined;
}
