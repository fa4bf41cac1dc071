/**
 * The state of {@link distinctCount}: an exact set of 64-bit hashes while it holds at most
 * {@link HLL_EXACT_LIMIT} distinct values, then the HyperLogLog registers of `hyperLogLog.ts` for good.
 *
 * Hand-written for the reasons `hyperLogLog.ts` gives (no maintained library has a compact canonical
 * form or a fast enough per-value path). This file is fully covered by property tests.
 */
import * as hyperLogLog from './hyperLogLog';

// Bound once: under CommonJS interop (tsx, jest, esbuild's cjs output) each use of a named import is a
// getter call, and these run per value.
const { fmix32, hash32, hllAdd, hllCreate, hllDeserialize, hllEstimate, hllMerge, hllSerialize } =
  hyperLogLog;

/**
 * Most distinct values a state counts exactly. Up to this many it keeps their 64-bit hashes (8 bytes
 * each: 512 × 8 = 4096 bytes, the size of the dense registers, so the stored state never grows past the
 * dense form); with one more it switches to the HyperLogLog registers for good. Two distinct values share
 * a 64-bit hash with probability ≤ 512² / 2^65 ≈ 7·10⁻¹⁵ per state: the count is exact for practical
 * purposes (not against inputs crafted to collide).
 */
export const HLL_EXACT_LIMIT = 512;

/** Low half of the last {@link hash64}: set there so that hashing a value allocates nothing. */
let lastLow = 0;

/**
 * 64-bit hash of `s`: returns the high 32 bits ({@link hash32}, which the registers use) and leaves the low
 * 32 bits in `lastLow`: MurmurHash3 x86_32 (seeded) of the UTF-16LE bytes, a structure unlike FNV's, so
 * the two halves collide independently. One pass computes both.
 */
function hash64(s: string): number {
  let h = 0x811c9dc5;
  let g = 0x9747b28c;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    h = Math.imul(h ^ c0, 0x01000193);
    h = Math.imul(h ^ c1, 0x01000193);
    let k = Math.imul(c0 | (c1 << 16), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    g ^= Math.imul(k, 0x1b873593);
    g = (g << 13) | (g >>> 19);
    g = (Math.imul(g, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    const c = s.charCodeAt(i);
    h = Math.imul(h ^ c, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    g ^= Math.imul(k, 0x1b873593);
  }
  lastLow = fmix32(g ^ (2 * n));
  return fmix32(h);
}

/**
 * In-memory state of {@link distinctCount}. Exact while `registers` is undefined: the distinct 64-bit
 * hashes seen, in an open-addressing table (`table[2i]` high, `table[2i + 1]` low half; an all-zero slot is
 * empty, and the all-zero hash itself is the `zero` flag), `size` of them. Dense once `registers` is set
 * (then `table` is empty and `size` unused). The mode is a function of the set of values alone: exact
 * exactly when it holds at most {@link HLL_EXACT_LIMIT} distinct hashes, so adds and merges in any order
 * and split reach the same state.
 */
export interface DistinctState {
  size: number;
  zero: boolean;
  table: Uint32Array;
  registers: Uint8Array | undefined;
}

const NO_TABLE = new Uint32Array(0);
/**
 * Slots of the smallest table. A table doubles before it would be more than half full, so it has at most
 * 2 × {@link HLL_EXACT_LIMIT} = 1024 slots (8 KB) before the state switches to the 4 KB registers. A hash's
 * home slot is given by the top bits of its high half, so the table is nearly in hash order: serialising
 * sorts it with an insertion sort in about linear time.
 */
const FIRST_SLOTS = 16;

/** Creates an empty (exact) state; its table is allocated on the first value. */
export function distinctCreate(): DistinctState {
  return { size: 0, zero: false, table: NO_TABLE, registers: undefined };
}

/**
 * Sizes the table once for up to `extra` more distinct values (`addColumn` and `merge` call it: one typed
 * array allocation instead of one per doubling, which cost more than the hashing of a small window).
 */
export function distinctReserve(state: DistinctState, extra: number): void {
  if (state.registers !== undefined) return;
  const want = Math.min(state.size + extra, HLL_EXACT_LIMIT);
  let slots = FIRST_SLOTS;
  while (slots < 2 * want) slots *= 2;
  if (2 * slots > state.table.length) rehash(state, slots);
}

/** Adds a value (by its string form). */
export function distinctAdd(state: DistinctState, value: string): void {
  if (state.registers !== undefined) {
    hllAdd(state.registers, hash32(value));
    return;
  }
  const hi = hash64(value);
  addHash(state, hi, lastLow);
}

/** Adds one 64-bit hash to a state of either mode, switching it to registers past the exact limit. */
function addHash(state: DistinctState, hi: number, lo: number): void {
  if (state.registers !== undefined) {
    hllAdd(state.registers, hi);
    return;
  }
  if (hi === 0 && lo === 0) {
    if (state.zero) return;
    if (state.size === HLL_EXACT_LIMIT) {
      toRegisters(state);
      hllAdd(state.registers!, hi);
      return;
    }
    state.zero = true;
    state.size++;
    return;
  }
  if (state.table.length === 0) rehash(state, FIRST_SLOTS);
  let table = state.table;
  let slots = table.length >>> 1;
  let slot = hi >>> (Math.clz32(slots) + 1);
  for (;;) {
    const h = table[2 * slot]!;
    const l = table[2 * slot + 1]!;
    if (h === 0 && l === 0) break;
    if (h === hi && l === lo) return;
    slot = (slot + 1) & (slots - 1);
  }
  // A new hash: one more than the limit switches to the registers (before the table would grow past
  // 2 × HLL_EXACT_LIMIT slots).
  if (state.size === HLL_EXACT_LIMIT) {
    toRegisters(state);
    hllAdd(state.registers!, hi);
    return;
  }
  if (2 * (state.size + 1) > slots) {
    rehash(state, 2 * slots);
    table = state.table;
    slots = table.length >>> 1;
    slot = hi >>> (Math.clz32(slots) + 1);
    while (table[2 * slot] !== 0 || table[2 * slot + 1] !== 0) slot = (slot + 1) & (slots - 1);
  }
  table[2 * slot] = hi;
  table[2 * slot + 1] = lo;
  state.size++;
}

/** Moves the hashes into a new table of `slots` slots (a power of two). */
function rehash(state: DistinctState, slots: number): void {
  const old = state.table;
  const table = new Uint32Array(2 * slots);
  const shift = Math.clz32(slots) + 1;
  for (let i = 0; i < old.length; i += 2) {
    const hi = old[i]!;
    const lo = old[i + 1]!;
    if (hi === 0 && lo === 0) continue;
    let slot = hi >>> shift;
    while (table[2 * slot] !== 0 || table[2 * slot + 1] !== 0) slot = (slot + 1) & (slots - 1);
    table[2 * slot] = hi;
    table[2 * slot + 1] = lo;
  }
  state.table = table;
}

/** Switches an exact state to the registers of the same set of hashes. */
function toRegisters(state: DistinctState): void {
  const registers = hllCreate();
  const table = state.table;
  for (let i = 0; i < table.length; i += 2) {
    if (table[i] !== 0 || table[i + 1] !== 0) hllAdd(registers, table[i]!);
  }
  if (state.zero) hllAdd(registers, 0);
  state.registers = registers;
  state.table = NO_TABLE;
  state.zero = false;
  state.size = 0;
}

/** Adds `other` into `state` (set union); `other` is left unchanged and shares nothing with the result. */
export function distinctMerge(state: DistinctState, other: DistinctState): DistinctState {
  if (other.registers !== undefined) {
    if (state.registers === undefined) toRegisters(state);
    hllMerge(state.registers!, other.registers);
    return state;
  }
  distinctReserve(state, other.size);
  if (other.zero) addHash(state, 0, 0);
  const table = other.table;
  for (let i = 0; i < table.length; i += 2) {
    const hi = table[i]!;
    const lo = table[i + 1]!;
    if (hi !== 0 || lo !== 0) addHash(state, hi, lo);
  }
  return state;
}

/**
 * The count: exact while the state holds at most {@link HLL_EXACT_LIMIT} distinct values, otherwise the
 * HyperLogLog estimate, never below `HLL_EXACT_LIMIT + 1` (a state only has registers once it has seen
 * more distinct values than that).
 */
export function distinctEstimate(state: DistinctState): number {
  if (state.registers === undefined) return state.size;
  return Math.max(HLL_EXACT_LIMIT + 1, hllEstimate(state.registers));
}

/** Scratch of the serialiser: the hashes in sorted order, then their big-endian bytes. */
const sortedHi = new Uint32Array(HLL_EXACT_LIMIT);
const sortedLo = new Uint32Array(HLL_EXACT_LIMIT);
const exactScratch = Buffer.allocUnsafe(HLL_EXACT_LIMIT * 8);
const exactView = new DataView(exactScratch.buffer, exactScratch.byteOffset, exactScratch.length);

/**
 * Compact string form, canonical (the same set always gives the same string):
 * - `x` + base64 of the exact hashes in ascending order, 8 bytes each (high then low half, big-endian): at
 *   most {@link HLL_EXACT_LIMIT} × 8 = 4096 bytes, 5465 characters;
 * - registers ({@link hllSerialize}): `r` + (index, rank) triples while fewer than 1/3 of them are set,
 *   else `d` + all 4096 (5465 characters).
 */
export function distinctSerialize(state: DistinctState): string {
  if (state.registers !== undefined) return hllSerialize(state.registers);
  const n = state.size;
  const table = state.table;
  let j = 0;
  if (state.zero) {
    sortedHi[0] = 0;
    sortedLo[0] = 0;
    j = 1;
  }
  // Insertion sort of the table's entries in slot order: they are nearly sorted already (home slot = top
  // bits of the high half), so this moves each entry only past the few of its probe cluster.
  for (let i = 0; i < table.length; i += 2) {
    const hi = table[i]!;
    const lo = table[i + 1]!;
    if (hi === 0 && lo === 0) continue;
    let k = j++;
    while (k > 0 && (sortedHi[k - 1]! > hi || (sortedHi[k - 1] === hi && sortedLo[k - 1]! > lo))) {
      sortedHi[k] = sortedHi[k - 1]!;
      sortedLo[k] = sortedLo[k - 1]!;
      k--;
    }
    sortedHi[k] = hi;
    sortedLo[k] = lo;
  }
  for (let k = 0; k < n; k++) {
    exactView.setUint32(8 * k, sortedHi[k]!);
    exactView.setUint32(8 * k + 4, sortedLo[k]!);
  }
  return `x${exactScratch.toString('base64', 0, 8 * n)}`;
}

/** Parses {@link distinctSerialize} output; undefined when it is malformed or not canonical. */
export function distinctDeserialize(stored: string): DistinctState | undefined {
  if (!stored.startsWith('x')) {
    const registers = hllDeserialize(stored);
    return registers === undefined ? undefined : { size: 0, zero: false, table: NO_TABLE, registers };
  }
  const bytes = Buffer.from(stored.slice(1), 'base64');
  if (bytes.length % 8 !== 0 || bytes.length > HLL_EXACT_LIMIT * 8) return undefined;
  const state = distinctCreate();
  distinctReserve(state, bytes.length / 8);
  let prevHi = -1;
  let prevLo = -1;
  for (let o = 0; o < bytes.length; o += 8) {
    const hi = bytes.readUInt32BE(o);
    const lo = bytes.readUInt32BE(o + 4);
    // Strictly increasing: no duplicates, and only the canonical order is accepted.
    if (hi < prevHi || (hi === prevHi && lo <= prevLo)) return undefined;
    addHash(state, hi, lo);
    prevHi = hi;
    prevLo = lo;
  }
  return state;
}
