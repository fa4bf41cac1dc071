import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { AnyColumnAggregate } from '../aggregates/columnAggregate';
import { EVOLVED_COLUMN, WINDOW_COLUMNS } from '../constants';
import { parseDuration } from '../duration';
import { CompiledPipeline } from '../engine/CompiledPipeline';
import {
  OPERATOR_KIND,
  type OperatorDef,
  type PipelineDefinition,
  type StreamTap,
  type SchemaLike,
} from '../engine/definition';
import { PipelineDefinitionError } from '../errors';
import { STREAM_VIEW_TYPES } from '../tableChange';
import type { ColumnSpec, PipelineSpec, TimeSpec, WindowSpec } from '../types';
import {
  checkColumnName,
  checkResultStream,
  checkStreamTap,
  checkWindowSpec,
  isAggregate,
  PIPELINE_NAME,
  requireFunction,
  RESERVED_COLUMNS,
  shardTime,
  checkSourceName,
  TABLE_NAME,
} from './definitionChecks';
import {
  type CleanOptions,
  type SinkOptions,
  type SourceOptions,
  type TableSourceOptions,
  type ToStreamOptions,
  type WindowOptions,
} from './options';
import { publishOnlyDefinition, PublishOnlyPipeline } from './publishOnlyPipeline';

/** Stages in definition order; each step may only follow the previous ones. */
const STAGE = { NEW: 0, SOURCE: 1, CLEAN: 2, PUBLISHED: 3, KEYED: 4, WINDOWED: 5, AGGREGATED: 6 } as const;
type Stage = (typeof STAGE)[keyof typeof STAGE];

interface Draft {
  readonly name: string;
  readonly stage: Stage;
  readonly source?: PipelineSpec['source'];
  readonly schema?: SchemaLike;
  readonly eventTime?: (value: unknown) => unknown;
  readonly dedupeBy?: (value: unknown) => unknown;
  readonly operators: readonly OperatorDef[];
  readonly publish?: StreamTap;
  readonly keyBy?: (value: unknown) => unknown;
  readonly keyColumn?: string;
  readonly window?: WindowSpec;
  readonly time?: TimeSpec;
  readonly aggregates?: readonly {
    readonly column: string;
    readonly aggregate: AnyColumnAggregate<unknown>;
  }[];
}

/**
 * Starts a pipeline definition. Every step validates its arguments and its position in the chain and
 * throws {@link PipelineDefinitionError} naming the bad value, so a bad pipeline fails when its module
 * loads (and so at CDK synth), never at run time.
 *
 * @example
 * export default pipeline('page-activity')
 *   .source({ stream: 'clickstream', shards: 2 })
 *   .clean({ schema: Click, eventTime: (c) => Date.parse(c.ts), dedupeBy: (c) => c.eventId })
 *   .keyBy((c) => c.page, 'page')
 *   .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s' })
 *   .aggregate({ events: count() })
 *   .sink({ table: 'page_activity_minutely' });
 */
export function pipeline(name: string): PipelineBuilder<never> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new PipelineDefinitionError(
      `Pipeline name must be a non-empty string (given ${JSON.stringify(name)})`,
    );
  }
  if (!PIPELINE_NAME.test(name)) {
    throw new PipelineDefinitionError(
      `Pipeline name must be 1..63 characters of lower-case letters, digits and '-', starting with a letter (given ${JSON.stringify(name)})`,
    );
  }
  return new PipelineBuilder<never>({ name, stage: STAGE.NEW, operators: [] });
}

/** An immutable pipeline definition in progress; `T` is the value type at this point of the chain. */
export class PipelineBuilder<T> {
  /** @internal */
  public constructor(private readonly draft: Draft) {}

  /** Reads records from a Kinesis stream. Must come first. */
  public source(options: SourceOptions): PipelineBuilder<unknown> {
    this.expect('source', [STAGE.NEW]);
    const { stream, shards } = options ?? ({} as SourceOptions);
    checkSourceName('stream', stream, `${this.label()}: stream name`);
    if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > 1000)) {
      throw new PipelineDefinitionError(
        `${this.label()}: shards must be an integer between 1 and 1000 inclusive (given ${String(shards)})`,
      );
    }
    return this.next<unknown>({
      stage: STAGE.SOURCE,
      source: shards === undefined ? { stream } : { stream, shards },
    });
  }

  /**
   * Reads the changes of a DynamoDB table from its stream (change data capture): each record is a
   * `TableChange` (`eventName`, `keys`, `newImage`, `oldImage`, `eventTime`, and `expired: true` on a
   * REMOVE done by the table's Time to Live), images as plain JSON. Must
   * come first, instead of `source()`.
   *
   * @example pipeline('order-revenue').fromTable('orders').clean({ schema: OrderChange, eventTime: (c) => c.eventTime })
   */
  public fromTable(table: string, options: TableSourceOptions = {}): PipelineBuilder<unknown> {
    this.expect('fromTable', [STAGE.NEW]);
    checkSourceName('table', table, `${this.label()}: table name`);
    const view = options?.view ?? 'NEW_AND_OLD_IMAGES';
    if (!(STREAM_VIEW_TYPES as readonly unknown[]).includes(view)) {
      throw new PipelineDefinitionError(
        `${this.label()}: view must be one of ${STREAM_VIEW_TYPES.join(', ')} (given ${JSON.stringify(view)})`,
      );
    }
    return this.next<unknown>({ stage: STAGE.SOURCE, source: { stream: table, table: { view } } });
  }

  /** Validates records with a Standard Schema (zod, valibot, arktype…) and extracts event time (and an optional dedupe id). */
  public clean<S extends StandardSchemaV1>(
    options: CleanOptions<S>,
  ): PipelineBuilder<StandardSchemaV1.InferOutput<S>> {
    this.expect('clean', [STAGE.SOURCE]);
    const { schema, eventTime, dedupeBy } = options ?? ({} as CleanOptions<S>);
    const standard = (schema as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.[
      '~standard'
    ];
    if (
      schema === null ||
      (typeof schema !== 'object' && typeof schema !== 'function') ||
      standard === undefined ||
      standard.version !== 1 ||
      typeof standard.validate !== 'function'
    ) {
      throw new PipelineDefinitionError(
        `${this.label()}: clean schema must be a Standard Schema v1 (zod, valibot, arktype…: an object with '~standard'.validate)`,
      );
    }
    requireFunction(eventTime, `${this.label()}: clean eventTime`);
    if (dedupeBy !== undefined) requireFunction(dedupeBy, `${this.label()}: clean dedupeBy`);
    return this.next<StandardSchemaV1.InferOutput<S>>({
      stage: STAGE.CLEAN,
      schema: schema as unknown as SchemaLike,
      eventTime: eventTime as (value: unknown) => unknown,
      ...(dedupeBy === undefined ? {} : { dedupeBy: dedupeBy as (value: unknown) => unknown }),
    });
  }

  /** Transforms each value; returning `undefined` rejects the record (OPERATOR_RETURNED_INVALID). */
  public map<U>(fn: (value: T) => U, name?: string): PipelineBuilder<U> {
    return this.operator<U>(OPERATOR_KIND.MAP, fn, name);
  }

  /** Keeps values for which `fn` returns true (it must return a boolean). */
  public filter<U extends T>(fn: (value: T) => value is U, name?: string): PipelineBuilder<U>;
  public filter(fn: (value: T) => boolean, name?: string): PipelineBuilder<T>;
  public filter(fn: (value: T) => boolean, name?: string): PipelineBuilder<T> {
    return this.operator<T>(OPERATOR_KIND.FILTER, fn, name);
  }

  /** Turns each value into zero or more values (an array or any iterable). */
  public flatMap<U>(fn: (value: T) => Iterable<U>, name?: string): PipelineBuilder<U> {
    return this.operator<U>(OPERATOR_KIND.FLAT_MAP, fn, name);
  }

  /**
   * Publishes every value at this point of the chain to the Kinesis stream `stream`, which another pipeline
   * reads as its source (the asynchronous link between pipelines). Each published record is the JSON
   * `{ id, time, value }` (`PublishedRecord`): `time` is the record's event time, and `id` is deterministic
   * (the `dedupeBy` id, or the upstream shard and sequence number, and the value's index in the record's
   * fan-out), so the downstream pipeline's `dedupeBy: (r) => r.id` counts a republished copy once. Values are
   * published after their batch commits, at least once; a record whose value cannot be published (not JSON,
   * over 1 MB, a bad partition key) is rejected here like one an operator refuses. Comes after the operators,
   * before `keyBy`.
   *
   * It may also finish the definition: what it returns is a publish-only pipeline (no window, no result
   * table), which a module exports as it is; `.keyBy()` on it goes on to a windowed pipeline that publishes too.
   * Such a pipeline's `options` may also set `idleTimeout` and `maxEventTimeAhead` (as `.window()`'s); with
   * them, `.keyBy()` is refused.
   *
   * @example export default pipeline('clean-clicks').source({ stream: 'clickstream' }).clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id }).toStream('clicks-clean', { partitionKey: (c) => c.page })
   */
  public toStream(stream: string, options: ToStreamOptions<T>): PublishOnlyPipeline<T> {
    if (this.draft.stage === STAGE.PUBLISHED)
      throw new PipelineDefinitionError(`${this.label()}: toStream() may appear once`);
    this.expect('toStream', [STAGE.CLEAN]);
    const partitionKey = options?.partitionKey;
    checkStreamTap(stream, partitionKey, this.draft.source!.stream, this.label());
    const publish = { stream, partitionKey: partitionKey as (value: unknown) => unknown };
    const d = this.draft;
    const definition = publishOnlyDefinition(
      {
        name: d.name,
        source: d.source!,
        schema: d.schema!,
        eventTime: d.eventTime!,
        dedupeBy: d.dedupeBy,
        operators: d.operators,
        publish,
        time: options,
      },
      this.label(),
    );
    const next = () => this.next<T>({ stage: STAGE.PUBLISHED, publish });
    return new PublishOnlyPipeline<T>(definition, next, options);
  }

  /**
   * Keys each value; the key is a non-empty string of at most 1024 characters and becomes the result
   * column `column` (a lower-case SQL identifier).
   */
  public keyBy(fn: (value: T) => string, column = 'key'): PipelineBuilder<T> {
    this.expect('keyBy', [STAGE.CLEAN, STAGE.PUBLISHED]);
    requireFunction(fn, `${this.label()}: keyBy`);
    checkColumnName(column, `${this.label()}: keyBy column`);
    return this.next<T>({ stage: STAGE.KEYED, keyBy: fn as (value: unknown) => unknown, keyColumn: column });
  }

  /** Assigns event-time windows: `tumbling(size)`, `sliding(size, slide)` or `session(gap)`. */
  public window(window: WindowSpec, options: WindowOptions): PipelineBuilder<T> {
    if (this.draft.stage === STAGE.CLEAN || this.draft.stage === STAGE.PUBLISHED) {
      throw new PipelineDefinitionError(
        `${this.label()}: window() needs keyBy() before it (windows are per key)`,
      );
    }
    this.expect('window', [STAGE.KEYED]);
    checkWindowSpec(window, this.label());
    const opts = options ?? ({} as WindowOptions);
    const time: TimeSpec = {
      allowedLatenessMs: parseDuration(opts.allowedLateness, `${this.label()}: allowedLateness`),
      maxOutOfOrdernessMs: parseDuration(opts.maxOutOfOrderness, `${this.label()}: maxOutOfOrderness`),
      ...shardTime(opts, this.label()),
    };
    return this.next<T>({ stage: STAGE.WINDOWED, window, time });
  }

  /**
   * Mergeable aggregates per (key, window), one result column each; column names are lower-case SQL
   * identifiers, distinct from the key column, `window_start`, `window_end`,
   * `evolved_columns`, `dt` and `hour`.
   */
  public aggregate<A extends Record<string, AnyColumnAggregate<T>>>(aggregates: A): PipelineBuilder<T> {
    this.expect('aggregate', [STAGE.WINDOWED]);
    if (aggregates === null || typeof aggregates !== 'object' || Object.keys(aggregates).length === 0) {
      throw new PipelineDefinitionError(`${this.label()}: aggregate() needs at least one column`);
    }
    const taken = new Set<string>([this.draft.keyColumn!, ...RESERVED_COLUMNS]);
    const list: { column: string; aggregate: AnyColumnAggregate<unknown> }[] = [];
    for (const [column, aggregate] of Object.entries(aggregates)) {
      checkColumnName(column, `${this.label()}: aggregate column`);
      if (taken.has(column)) {
        throw new PipelineDefinitionError(
          `${this.label()}: duplicate or reserved output column ${JSON.stringify(column)}`,
        );
      }
      taken.add(column);
      if (!isAggregate(aggregate)) {
        throw new PipelineDefinitionError(
          `${this.label()}: aggregate column ${JSON.stringify(column)} is not an aggregate (use count(), sum(), ...)`,
        );
      }
      list.push({ column, aggregate: aggregate as AnyColumnAggregate<unknown> });
    }
    return this.next<T>({ stage: STAGE.AGGREGATED, aggregates: list });
  }

  /**
   * Writes closed windows to the result table; finishes the definition. `toStream` also publishes each
   * result row to a Kinesis stream (see {@link SinkOptions.toStream}).
   */
  public sink(options: SinkOptions): CompiledPipeline<T> {
    if (this.draft.stage !== STAGE.AGGREGATED) {
      const hint =
        this.draft.stage === STAGE.PUBLISHED
          ? '; a pipeline that only publishes ends at toStream() (export it as it is), one with a result table goes on with keyBy → window → aggregate → sink'
          : '';
      throw new PipelineDefinitionError(`${this.label()}: sink() must come after aggregate()${hint}`);
    }
    const table = options?.table;
    if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
      throw new PipelineDefinitionError(
        `${this.label()}: sink table must be a lower-case SQL identifier of 1..128 characters (given ${JSON.stringify(table)})`,
      );
    }
    const d = this.draft;
    const toStream = options.toStream;
    if (toStream !== undefined)
      checkResultStream(toStream, d.source!.stream, d.publish?.stream, this.label());
    const aggregates = d.aggregates!;
    const columns: ColumnSpec[] = [
      { name: d.keyColumn!, type: 'string', comment: 'Window key' },
      { name: WINDOW_COLUMNS.START, type: 'timestamp', comment: 'Window start (inclusive, UTC)' },
      { name: WINDOW_COLUMNS.END, type: 'timestamp', comment: 'Window end (exclusive, UTC)' },
      ...aggregates.map(({ column, aggregate }) => ({
        name: column,
        type: aggregate.outputType,
        comment:
          aggregate.errorBound === undefined ? aggregate.kind : `${aggregate.kind} (${aggregate.errorBound})`,
      })),
      {
        name: EVOLVED_COLUMN,
        type: 'string',
        comment:
          'Aggregate columns added while this window was open (they start from their identity); null if none',
      },
    ];
    const errorBounds: Record<string, string> = {};
    for (const { column, aggregate } of aggregates)
      if (aggregate.errorBound !== undefined) errorBounds[column] = aggregate.errorBound;
    const spec: PipelineSpec = {
      name: d.name,
      source: d.source!,
      window: d.window!,
      time: d.time!,
      sink: toStream === undefined ? { table } : { table, toStream },
      ...(d.publish === undefined ? {} : { publish: { stream: d.publish.stream } }),
      columns,
      errorBounds,
    };
    const definition: PipelineDefinition = {
      spec,
      schema: d.schema!,
      eventTime: d.eventTime!,
      dedupeBy: d.dedupeBy,
      operators: d.operators,
      publish: d.publish,
      keyBy: d.keyBy!,
      keyColumn: d.keyColumn!,
      aggregates,
    };
    return new CompiledPipeline<T>(definition);
  }

  private operator<U>(kind: OperatorDef['kind'], fn: unknown, name: string | undefined): PipelineBuilder<U> {
    if (this.draft.stage === STAGE.KEYED || this.draft.stage === STAGE.PUBLISHED) {
      const next = this.draft.stage === STAGE.KEYED ? 'keyBy' : 'toStream';
      throw new PipelineDefinitionError(`${this.label()}: ${kind}() must come before ${next}()`);
    }
    this.expect(kind, [STAGE.CLEAN]);
    requireFunction(fn, `${this.label()}: ${kind}`);
    const opName = name ?? `${kind}#${this.draft.operators.length + 1}`;
    if (typeof opName !== 'string' || opName.length === 0) {
      throw new PipelineDefinitionError(
        `${this.label()}: operator name must be a non-empty string (given ${JSON.stringify(name)})`,
      );
    }
    return this.next<U>({
      operators: [...this.draft.operators, { kind, name: opName, fn: fn as (value: unknown) => unknown }],
    });
  }

  private next<U>(change: Partial<Draft>): PipelineBuilder<U> {
    return new PipelineBuilder<U>({ ...this.draft, ...change });
  }

  private label(): string {
    return `Pipeline ${JSON.stringify(this.draft.name)}`;
  }

  private expect(step: string, allowed: readonly Stage[]): void {
    if (allowed.includes(this.draft.stage)) return;
    const order =
      'source/fromTable → clean → map/filter/flatMap → toStream → keyBy → window → aggregate → sink';
    throw new PipelineDefinitionError(`${this.label()}: ${step}() is out of order (expected ${order})`);
  }
}
