import type { ColumnAggregate } from './columnAggregate';
import { extremum } from './min';

/** Maximum of a numeric field; null for an empty window. Exact. Output column type `double`. */
export function max<T>(fn: (value: T) => number): ColumnAggregate<T, number, number | null, number | null> {
  return extremum('max', fn, (a, b) => (b > a ? b : a));
}
