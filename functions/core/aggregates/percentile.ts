import { DDSketch, LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { finiteNumber, type ColumnAggregate } from './columnAggregate';
import { PipelineDefinitionError, StateDeserializationError } from '../errors';

/** Relative accuracy of the DDSketch behind {@link percentile}. */
export const PERCENTILE_RELATIVE_ACCURACY = 0.01;
/**
 * Bins per sign. Keeps the stored state bounded (≤ ~45 KB base64 even for hostile inputs spanning the
 * whole double range; typically 1–3 KB); 2048 bins at 1% accuracy cover a dynamic range of
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

/**
 * Approximate quantile `q` (0..1) of a numeric field, from a DDSketch (relative accuracy 1%); null for an
 * empty window. The quantile is the lower one: the value at rank `floor(q · (n − 1))` of the sorted
 * inputs, returned within 1% relative error. Stored as the sketch's protobuf, base64. Output column type `double`.
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
    merge: mergeSketch,
    serialize: (state) => Buffer.from(state.toProto()).toString('base64'),
    deserialize: (stored) => {
      if (typeof stored !== 'string')
        throw new StateDeserializationError('percentile state must be a base64 string');
      try {
        const decoded = DDSketch.fromProto(Buffer.from(stored, 'base64')) as Sketch;
        const state = newSketch();
        if (!state.mergeable(decoded)) throw new Error('relative accuracy differs');
        // Re-bin into a bounded sketch, so merged state never outgrows the bin limit.
        return mergeSketch(state, decoded);
      } catch (err) {
        throw new StateDeserializationError('percentile state is not a valid DDSketch', { cause: err });
      }
    },
    result: (state) => (state.count === 0 ? null : state.getValueAtQuantile(q)),
  };
}
