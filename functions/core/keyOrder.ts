/**
 * The order of result rows by key (DESIGN.md §5: "sorted by key"): Unicode code point order, which is the
 * order of the keys' UTF-8 bytes, as DuckDB and Athena sort text. JavaScript's `<` compares UTF-16 code
 * units instead, which puts a character beyond U+FFFF (a surrogate pair, e.g. an emoji) before one in
 * U+E000–U+FFFF (e.g. '｡'): SQL sorts them the other way.
 */

/** Negative when `a` sorts before `b` in code point order, positive after, 0 when equal. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * A code unit's place in code point order at the first unit two strings differ in: a surrogate (the start
 * of a code point above U+FFFF, or its second half after an equal first half) ranks above U+E000–U+FFFF.
 */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
