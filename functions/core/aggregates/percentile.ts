import { DDSketch } from '@datadog/sketches-js';
import { finiteNumber, type ColumnAggregate } from './columnAggregate';
import { PipelineDefinitionError, StateDeserializationError } from '../errors';

/** Relative accuracy of the DDSketch behind {@link percentile}. */
export const PERCENTILE_RELATIVE_ACCURACY = 0.01;
/** Stated error bound of {@link percentile}. */
export const PERCENTILE_ERROR_BOUND = 'DDSketch: relative error ≤ 1% of the true quantile value';

/**
 * Approximate quantile `q` (0..1) of a numeric field, from a DDSketch (relative accuracy 1%); null for an
 * empty window. The quantile is the lower one: the value at rank `floor(q · (n − 1))` of the sorted
 * inputs, returned within 1% relative error. Stored as the sketch's protobuf, base64. Output column type `double`.
 *
 * @example .aggregate({ p95_duration_ms: percentile((e) => e.durationMs, 0.95) })
 */
export function percentile<T>(fn: (value: T) => number, q: number): ColumnAggregate<T, number, DDSketch, number | null> {
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw new PipelineDefinitionError(`percentile quantile must be between 0 and 1 inclusive (given ${String(q)})`);
  }
  return {
    kind: 'percentile',
    outputType: 'double',
    errorBound: PERCENTILE_ERROR_BOUND,
    input: fn,
    validate: finiteNumber,
    create: () => new DDSketch({ relativeAccuracy: PERCENTILE_RELATIVE_ACCURACY }),
    add: (state, input) => {
      state.accept(input);
      return state;
    },
    merge: (state, other) => {
      // DDSketch.merge in @datadog/sketches-js 2.1.1 forgets the negative-value store; merge the parts here.
      if (other.count === 0) return state;
      state.store.merge(other.store);
      state.negativeStore.merge(other.negativeStore);
      state.zeroCount += other.zeroCount;
      state.count += other.count;
      return state;
    },
    serialize: (state) => Buffer.from(state.toProto()).toString('base64'),
    deserialize: (stored) => {
      if (typeof stored !== 'string') throw new StateDeserializationError('percentile state must be a base64 string');
      try {
        return DDSketch.fromProto(Buffer.from(stored, 'base64')) as DDSketch;
      } catch (err) {
        throw new StateDeserializationError('percentile state is not a valid DDSketch', { cause: err });
      }
    },
    result: (state) => (state.count === 0 ? null : state.getValueAtQuantile(q)),
  };
}
