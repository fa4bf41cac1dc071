/**
 * The id of the n-th value a record yields through the operator chain (its fan-out: `flatMap`), from the
 * record's `dedupeBy` id: the keyed dedupe (`WindowCombiner.ts`) counts a value once per id, and a pipeline
 * downstream of `.toStream()` dedupes by the id it is published under (`streamTap.ts`). The first value keeps
 * the record's id; the n-th (n ≥ 1) is `<id>\u0000<n>`, and a NUL in the record's id is doubled first, so no
 * id a producer sends equals another record's value's id (`order#1` is not the second value of `order`:
 * reading a string left to right, a NUL not paired with the next one only ever starts a suffix). Any id
 * without a NUL is its own first value's id, as stored by earlier releases.
 */
export function elementId(id: string, ordinal: number): string {
  const own = id.indexOf(NUL) === -1 ? id : id.replaceAll(NUL, NUL + NUL);
  return ordinal === 0 ? own : `${own}${NUL}${ordinal}`;
}

const NUL = '\u0000';
