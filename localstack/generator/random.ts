/**
 * A small seeded pseudo-random number generator and the samplers the generator needs.
 *
 * Hand-written rather than a dependency: the project pins no PRNG library (fast-check's `pure-rand`
 * is a dev-only transitive dependency), and mulberry32 is a dozen lines with well-known statistics.
 * Reproducibility across Node versions matters more than cryptographic quality here.
 */

/** A seeded source of uniform numbers in `[0, 1)`. */
export interface Random {
  /** Next uniform number in `[0, 1)`. */
  next(): number;
  /** Uniform integer in `[min, max]` (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element picked uniformly. */
  pick<T>(items: readonly T[]): T;
  /** One element picked by relative weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  /** 32 hex digits formatted like a version-4 UUID. */
  uuid(): string;
}

/**
 * Creates a mulberry32 generator: the same seed always yields the same sequence.
 *
 * @example
 * const rng = createRandom(42);
 * rng.int(1, 6); // reproducible dice roll
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hex = (digits: number): string => {
    let out = '';
    for (let i = 0; i < digits; i++) out += Math.floor(next() * 16).toString(16);
    return out;
  };
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError('Cannot pick from an empty list');
      return item;
    },
    weighted: (items) => {
      const total = items.reduce((sum, [, w]) => sum + w, 0);
      let target = next() * total;
      for (const [item, weight] of items) {
        target -= weight;
        if (target < 0) return item;
      }
      const last = items[items.length - 1];
      if (last === undefined) throw new RangeError('Cannot pick from an empty list');
      return last[0];
    },
    uuid: () => {
      const variant = (8 + Math.floor(next() * 4)).toString(16);
      return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
    },
  };
  return random;
}

/**
 * A Zipf sampler over ranks `0 … n-1` (rank 0 most frequent), by inverse CDF and binary search.
 *
 * @param n number of distinct values, ≥ 1
 * @param exponent skew `s` (1.0–1.2 is typical of web traffic)
 */
export function zipfSampler(n: number, exponent: number): (rng: Random) => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Zipf needs at least one value (given ${n})`);
  const cdf: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= n; rank++) {
    total += 1 / rank ** exponent;
    cdf.push(total);
  }
  return (rng) => {
    const target = rng.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] ?? total) <= target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
