export { count } from './count';
export { sum } from './sum';
export { min } from './min';
export { max } from './max';
export { avg, type AvgState } from './avg';
export { distinctCount, DISTINCT_COUNT_ERROR_BOUND } from './distinctCount';
export {
  percentile,
  PERCENTILE_BIN_LIMIT,
  PERCENTILE_ERROR_BOUND,
  PERCENTILE_RELATIVE_ACCURACY,
} from './percentile';
export { topK, topKCapacity, type TopKItem, type TopKState } from './topK';
export type { AnyColumnAggregate, ColumnAggregate } from './columnAggregate';
