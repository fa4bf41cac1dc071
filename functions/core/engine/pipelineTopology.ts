/**
 * A pipeline's stages as a graph shows them (the local console, docs): what the DSL chained, in order,
 * without the user's functions. Derived from the definition, so it cannot drift from what runs.
 */
import type { PipelineSpec, TimeSpec, WindowSpec } from '../types';
import type { OperatorKind, PipelineDefinition } from './definition';

/** The stages of one pipeline, source to sink. */
export interface PipelineTopology {
  readonly name: string;
  readonly source: PipelineSpec['source'];
  /** `clean`: schema validation and event time, and whether it drops producer duplicates (`dedupeBy`). */
  readonly clean: { readonly dedupe: boolean };
  /** The fused map / filter / flatMap chain, in order, by the names the DSL gave them. */
  readonly operators: readonly { readonly kind: OperatorKind; readonly name: string }[];
  /** The stream the values at the end of the chain are published to (`.toStream()`), if any. */
  readonly publish?: { readonly stream: string };
  /** The result column `keyBy` fills; absent for a publish-only pipeline (as are window and sink). */
  readonly keyColumn?: string;
  readonly window?: WindowSpec;
  readonly time: TimeSpec;
  /** Aggregate columns in order, with their kind (`count`, `percentile`, …). */
  readonly aggregates: readonly { readonly column: string; readonly kind: string }[];
  readonly sink?: PipelineSpec['sink'];
}

/** The topology of a finished definition. */
export function pipelineTopology(def: PipelineDefinition): PipelineTopology {
  return {
    name: def.spec.name,
    source: def.spec.source,
    clean: { dedupe: def.dedupeBy !== undefined },
    operators: def.operators.map((op) => ({ kind: op.kind, name: op.name })),
    ...(def.spec.publish === undefined ? {} : { publish: def.spec.publish }),
    ...(def.keyColumn === undefined ? {} : { keyColumn: def.keyColumn }),
    ...(def.spec.window === undefined ? {} : { window: def.spec.window }),
    time: def.spec.time,
    aggregates: def.aggregates.map((a) => ({ column: a.column, kind: a.aggregate.kind })),
    ...(def.spec.sink === undefined ? {} : { sink: def.spec.sink }),
  };
}
