/**
 * The HyperLogLog sketch (Flajolet et al. 2007) behind {@link distinctCount} once a state has seen more than
 * `HLL_EXACT_LIMIT` distinct values (`distinctState.ts`): precision p = 12, 4096 one-byte registers,
 * standard error 1.04 / sqrt(4096) ≈ 1.6%, small-range (linear counting) correction, registers from the
 * high 32 bits of the hash ({@link hash32}).
 *
 * Hand-written on purpose: the maintained npm option (`bloom-filters`) bundles many structures and
 * dependencies, has no compact serialised form, and hashes through a generic path that is too slow for
 * the per-record hot loop. This file is fully covered by property tests.
 */

/** Precision: number of index bits. */
export const HLL_PRECISION = 12;
/** Number of registers, 2^p. */
export const HLL_REGISTERS = 1 << HLL_PRECISION;
/** Largest possible register value with a 32-bit hash: 32 − p + 1. */
export const HLL_MAX_RANK = 32 - HLL_PRECISION + 1;
/** Relative standard error of the estimate, 1.04/√m. */
export const HLL_STANDARD_ERROR = 1.04 / Math.sqrt(HLL_REGISTERS);

const ALPHA = 0.7213 / (1 + 1.079 / HLL_REGISTERS);
const TWO_32 = 2 ** 32;

/**
 * 32-bit FNV-1a over UTF-16 code units, finished with MurmurHash3's fmix32 avalanche so that the high
 * bits (the register index) are well mixed. The high half of the exact states' 64-bit hash (`distinctState.ts`).
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** MurmurHash3's 32-bit finaliser (a bijection), as an unsigned 32-bit number. */
export function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Creates empty registers. */
export function hllCreate(): Uint8Array {
  return new Uint8Array(HLL_REGISTERS);
}

/** Adds a value's 32-bit hash ({@link hash32}) to the registers. */
export function hllAdd(registers: Uint8Array, hash: number): void {
  const index = hash >>> (32 - HLL_PRECISION);
  // Rank = position of the first 1 bit in the remaining 32 - p bits (1-based); all zeros → MAX_RANK.
  const rest = (hash << HLL_PRECISION) >>> 0;
  const rank = rest === 0 ? HLL_MAX_RANK : Math.clz32(rest) + 1;
  if (rank > registers[index]!) registers[index] = rank;
}

/** Register-wise max: the union of the two sets. */
export function hllMerge(into: Uint8Array, other: Uint8Array): void {
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const v = other[i]!;
    if (v > into[i]!) into[i] = v;
  }
}

/** Cardinality estimate, rounded to an integer. */
export function hllEstimate(registers: Uint8Array): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const r = registers[i]!;
    sum += 2 ** -r;
    if (r === 0) zeros++;
  }
  let estimate = (ALPHA * HLL_REGISTERS * HLL_REGISTERS) / sum;
  if (estimate <= 2.5 * HLL_REGISTERS && zeros > 0) {
    estimate = HLL_REGISTERS * Math.log(HLL_REGISTERS / zeros);
  } else if (estimate > TWO_32 / 30) {
    estimate = -TWO_32 * Math.log(1 - estimate / TWO_32);
  }
  return Math.round(estimate);
}

/** Scratch for the sparse form: at most 1/3 of the registers are written before the dense form wins. */
const sparseScratch = Buffer.allocUnsafe(HLL_REGISTERS * 3);

/**
 * Compact string form of registers: `r` + base64 of (index u16 BE, rank u8) triples while fewer than 1/3
 * of the registers are set, otherwise `d` + base64 of all 4096 registers (5465 characters). One pass into
 * a reused scratch buffer (it runs once per window partial).
 */
export function hllSerialize(registers: Uint8Array): string {
  let o = 0;
  // Registers are scanned four at a time (a window's registers are mostly zero; this runs once per
  // window partial, and the byte-by-byte scan was half the cost of distinctCount in combine).
  const words =
    registers.byteOffset % 4 === 0 && registers.length === HLL_REGISTERS
      ? new Uint32Array(registers.buffer, registers.byteOffset, HLL_REGISTERS / 4)
      : undefined;
  for (let i = 0; i < HLL_REGISTERS; i++) {
    if (words !== undefined && (i & 3) === 0 && words[i >>> 2] === 0) {
      i += 3;
      continue;
    }
    const r = registers[i]!;
    if (r === 0) continue;
    // `o` reaching HLL_REGISTERS means set * 3 >= HLL_REGISTERS: the dense form is used.
    if (o >= HLL_REGISTERS) break;
    sparseScratch[o] = i >>> 8;
    sparseScratch[o + 1] = i & 0xff;
    sparseScratch[o + 2] = r;
    o += 3;
  }
  if (o >= HLL_REGISTERS)
    return `d${Buffer.from(registers.buffer, registers.byteOffset, registers.length).toString('base64')}`;
  return `r${sparseScratch.toString('base64', 0, o)}`;
}

/**
 * Parses {@link hllSerialize} output; returns undefined when it is malformed. (The register list was
 * prefixed `s` before exact counting existed; such states are refused rather than read as registers.)
 */
export function hllDeserialize(stored: string): Uint8Array | undefined {
  const bytes = Buffer.from(stored.slice(1), 'base64');
  const registers = hllCreate();
  if (stored.startsWith('d')) {
    if (bytes.length !== HLL_REGISTERS) return undefined;
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = bytes[i]!;
      if (r > HLL_MAX_RANK) return undefined;
      registers[i] = r;
    }
    return registers;
  }
  if (!stored.startsWith('r') || bytes.length % 3 !== 0) return undefined;
  for (let o = 0; o < bytes.length; o += 3) {
    const i = bytes.readUInt16BE(o);
    const r = bytes[o + 2]!;
    if (i >= HLL_REGISTERS || r === 0 || r > HLL_MAX_RANK) return undefined;
    registers[i] = r;
  }
  return registers;
}
