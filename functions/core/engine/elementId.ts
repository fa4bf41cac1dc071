/**
 * The id of the n-th value a record yields through the operator chain (its fan-out: `flatMap`), from the
 * record's `dedupeBy` id: the keyed dedupe (`WindowCombiner.ts`) counts a value once per id, and a pipeline
 * downstream of `.toStream()` dedupes by the id it is published under (`streamTap.ts`). The first value
 * keeps the record's id, the n-th is `<id>#<n>`; a `%` or `#` in the record's id is percent-encoded first
 * (`%25`, `%23`), so that no id a producer sends equals another record's value's id (`order#1` is not the
 * second value of `order`). Ids without either character are unchanged, as are the dedupe ids stored
 * under them.
 */
export function elementId(id: string, ordinal: number): string {
  const own = id.indexOf('#') === -1 && id.indexOf('%') === -1 ? id : id.replace(/[%#]/g, escape);
  return ordinal === 0 ? own : `${own}#${ordinal}`;
}

const escape = (c: string): string => (c === '%' ? '%25' : '%23');
