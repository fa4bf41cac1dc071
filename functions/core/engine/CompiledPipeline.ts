/**
 * A compiled pipeline: the pure batch path of DESIGN.md §1–3, fused in one pass per batch. Built by the DSL's
 * `.sink()`; the CDK stack only reads `spec`. Each stage is a class of its own file, each extending the one
 * before: `RecordCleaner` (decode, clean, event time, dedupe id) → `OperatorChain` (map, filter, flatMap) →
 * `ElementRouter` (key, aggregate inputs, windows, lateness) → `WindowCombiner` (grouping, combine, merge) →
 * `CompiledPipeline` (result rows).
 */
import { EVOLVED_COLUMN } from '../constants';
import { InvalidOptionError } from '../errors';
import { stateFingerprint, stateShapeOf, type StateShape } from '../state/stateFingerprint';
import type { Json, ResultRow, WindowBounds } from '../types';
import type { PipelineDefinition } from './definition';
import { pipelineTopology, type PipelineTopology } from './pipelineTopology';
import type { Pipeline } from './types';
import { WindowCombiner } from './WindowCombiner';

export class CompiledPipeline<T = unknown> extends WindowCombiner implements Pipeline<T> {
  /** What shapes this pipeline's stored state, and its fingerprint (`state/stateFingerprint.ts`). */
  public readonly stateShape: StateShape;
  public readonly stateFingerprint: string;

  public constructor(def: PipelineDefinition) {
    super(def);
    this.stateShape = stateShapeOf(def);
    this.stateFingerprint = stateFingerprint(this.stateShape);
  }

  /** The stages as a graph shows them (source, clean, operators, keyBy, window, aggregates, sink). */
  public topology(): PipelineTopology {
    return pipelineTopology(this.def);
  }

  public resultRow(
    key: string,
    window: WindowBounds,
    state: Readonly<Record<string, Json>>,
    _records: number,
    evolved: readonly string[] = [],
  ): ResultRow {
    const keyColumn = this.def.keyColumn;
    if (keyColumn === undefined)
      throw new InvalidOptionError(`Pipeline ${this.spec.name} only publishes: it has no result rows`);
    const row: Record<string, string | number | bigint | boolean | null> = {};
    row[keyColumn] = key;
    row['window_start'] = window.start;
    row['window_end'] = window.end;
    for (let i = 0; i < this.aggs.length; i++) {
      const agg = this.aggs[i]!;
      const col = this.columns[i]!;
      const result = agg.result(this.load(agg, col, state[col]));
      row[col] =
        agg.outputType === 'json' ? JSON.stringify(result) : (result as string | number | boolean | null);
    }
    const marked = this.columns.filter((column) => evolved.includes(column));
    row[EVOLVED_COLUMN] = marked.length === 0 ? null : marked.join(',');
    return row;
  }

  /** Empty serialised state (every column at its identity). */
  public emptyState(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (let i = 0; i < this.aggs.length; i++)
      out[this.columns[i]!] = this.aggs[i]!.serialize(this.aggs[i]!.create());
    return out;
  }
}
