import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { AnyColumnAggregate } from '../aggregates/columnAggregate';
import { EVOLVED_COLUMN, WINDOW_COLUMNS } from '../constants';
import { parseDuration, type Duration } from '../duration';
import { CompiledPipeline } from '../engine/CompiledPipeline';
import {
  OPERATOR_KIND,
  type OperatorDef,
  type PipelineDefinition,
  type SchemaLike,
} from '../engine/definition';
import { PipelineDefinitionError } from '../errors';
import { STREAM_VIEW_TYPES, type StreamViewType } from '../tableChange';
import { checkColumnName, checkWindowSpec, isAggregate, requireFunction, RESERVED_COLUMNS } from './checks';
import type { ColumnSpec, EpochMillis, PipelineSpec, TimeSpec, WindowSpec } from '../types';

/** Options of `.source()`. */
export interface SourceOptions {
  /** Kinesis stream name: 1..128 characters of `[a-zA-Z0-9_.-]`. */
  readonly stream: string;
  /** Provisioned shard count, 1..1000; omit for on-demand. */
  readonly shards?: number;
}

/** Options of `.fromTable()`. */
export interface TableSourceOptions {
  /**
   * The table's stream view type (what each change carries). A change that lacks an image its view
   * carries goes to `rejected/` (`INVALID_CHANGE_RECORD`).
   * @default 'NEW_AND_OLD_IMAGES'
   */
  readonly view?: StreamViewType;
}

/** Options of `.clean()`. */
export interface CleanOptions<S extends StandardSchemaV1> {
  /**
   * Schema every record must satisfy, from any Standard Schema library (zod, zod/mini, valibot, arktype…);
   * its output type is the pipeline's value type. Validation must be synchronous. Its first issue's path and
   * message become the `rejected/` reason. With zod, `z.compile(schema)` (zod ≥ 4.4) takes a generated fast
   * path for valid records and keeps zod's messages for invalid ones.
   */
  readonly schema: S;
  /** Event time (epoch ms) of a valid record. */
  readonly eventTime: (value: StandardSchemaV1.InferOutput<S>) => EpochMillis;
  /** Optional id for de-duplication of producer retries (same id → counted once per window). */
  readonly dedupeBy?: (value: StandardSchemaV1.InferOutput<S>) => string;
}

/** Options of `.window()` (DESIGN.md §2). */
export interface WindowOptions {
  /** How long after a window's end (in watermark time) late records are still merged. */
  readonly allowedLateness: Duration;
  /** Per-shard watermark = max event time − maxOutOfOrderness. */
  readonly maxOutOfOrderness: Duration;
  /**
   * A shard without records for this long (processing time) stops holding the watermark back.
   * @default '1m'
   */
  readonly idleTimeout?: Duration;
  /**
   * How far a record's event time may be ahead of its arrival in the stream. A record further ahead goes
   * to `rejected/` (`EVENT_TIME_AHEAD`) and moves no watermark, so one producer's fast clock cannot close
   * everyone's windows. Between 0 and 1 day.
   * @default '5m'
   */
  readonly maxEventTimeAhead?: Duration;
}

/** Options of `.sink()`. */
export interface SinkOptions {
  /** Result table name: a lower-case SQL identifier, 1..128 characters. */
  readonly table: string;
}

/** Largest `maxEventTimeAhead` a pipeline may set. */
const MAX_EVENT_TIME_AHEAD_LIMIT_MS = 86_400_000;

const PIPELINE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
/** DynamoDB's table names, at most 128 characters (they name side-output prefixes, as stream names do). */
const TABLE_NAME_OF_SOURCE = /^[a-zA-Z0-9_.-]{3,128}$/;
const TABLE_NAME = /^[a-z][a-z0-9_]{0,127}$/;

/** Stages in definition order; each step may only follow the previous ones. */
const STAGE = { NEW: 0, SOURCE: 1, CLEAN: 2, KEYED: 3, WINDOWED: 4, AGGREGATED: 5 } as const;
type Stage = (typeof STAGE)[keyof typeof STAGE];

interface Draft {
  readonly name: string;
  readonly stage: Stage;
  readonly source?: PipelineSpec['source'];
  readonly schema?: SchemaLike;
  readonly eventTime?: (value: unknown) => unknown;
  readonly dedupeBy?: (value: unknown) => unknown;
  readonly operators: readonly OperatorDef[];
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
    if (typeof stream !== 'string' || !STREAM_NAME.test(stream)) {
      throw new PipelineDefinitionError(
        `${this.label()}: stream name must be 1..128 characters of [a-zA-Z0-9_.-] (given ${JSON.stringify(stream)})`,
      );
    }
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
   * `TableChange` (`eventName`, `keys`, `newImage`, `oldImage`, `eventTime`), images as plain JSON. Must
   * come first, instead of `source()`.
   *
   * @example pipeline('order-revenue').fromTable('orders').clean({ schema: OrderChange, eventTime: (c) => c.eventTime })
   */
  public fromTable(table: string, options: TableSourceOptions = {}): PipelineBuilder<unknown> {
    this.expect('fromTable', [STAGE.NEW]);
    if (typeof table !== 'string' || !TABLE_NAME_OF_SOURCE.test(table)) {
      throw new PipelineDefinitionError(
        `${this.label()}: table name must be 3..128 characters of [a-zA-Z0-9_.-] (given ${JSON.stringify(table)})`,
      );
    }
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
   * Keys each value; the key is a non-empty string of at most 1024 characters and becomes the result
   * column `column` (a lower-case SQL identifier).
   */
  public keyBy(fn: (value: T) => string, column = 'key'): PipelineBuilder<T> {
    this.expect('keyBy', [STAGE.CLEAN]);
    requireFunction(fn, `${this.label()}: keyBy`);
    checkColumnName(column, `${this.label()}: keyBy column`);
    return this.next<T>({ stage: STAGE.KEYED, keyBy: fn as (value: unknown) => unknown, keyColumn: column });
  }

  /** Assigns event-time windows: `tumbling(size)`, `sliding(size, slide)` or `session(gap)`. */
  public window(window: WindowSpec, options: WindowOptions): PipelineBuilder<T> {
    if (this.draft.stage === STAGE.CLEAN) {
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
      idleTimeoutMs: parseDuration(opts.idleTimeout ?? '1m', `${this.label()}: idleTimeout`),
      maxEventTimeAheadMs: parseDuration(
        opts.maxEventTimeAhead ?? '5m',
        `${this.label()}: maxEventTimeAhead`,
      ),
    };
    if (time.idleTimeoutMs <= 0)
      throw new PipelineDefinitionError(
        `${this.label()}: idleTimeout must be positive (given ${JSON.stringify(opts.idleTimeout)})`,
      );
    if (time.maxEventTimeAheadMs > MAX_EVENT_TIME_AHEAD_LIMIT_MS)
      throw new PipelineDefinitionError(
        `${this.label()}: maxEventTimeAhead must be at most 1d (given ${JSON.stringify(opts.maxEventTimeAhead)})`,
      );
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

  /** Writes closed windows to the result table; finishes the definition. */
  public sink(options: SinkOptions): CompiledPipeline<T> {
    if (this.draft.stage !== STAGE.AGGREGATED) {
      throw new PipelineDefinitionError(`${this.label()}: sink() must come after aggregate()`);
    }
    const table = options?.table;
    if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
      throw new PipelineDefinitionError(
        `${this.label()}: sink table must be a lower-case SQL identifier of 1..128 characters (given ${JSON.stringify(table)})`,
      );
    }
    const d = this.draft;
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
      sink: { table },
      columns,
      errorBounds,
    };
    const definition: PipelineDefinition = {
      spec,
      schema: d.schema!,
      eventTime: d.eventTime!,
      dedupeBy: d.dedupeBy,
      operators: d.operators,
      keyBy: d.keyBy!,
      keyColumn: d.keyColumn!,
      aggregates,
    };
    return new CompiledPipeline<T>(definition);
  }

  private operator<U>(kind: OperatorDef['kind'], fn: unknown, name: string | undefined): PipelineBuilder<U> {
    if (this.draft.stage === STAGE.KEYED) {
      throw new PipelineDefinitionError(`${this.label()}: ${kind}() must come before keyBy()`);
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
    const order = 'source/fromTable → clean → map/filter/flatMap → keyBy → window → aggregate → sink';
    throw new PipelineDefinitionError(`${this.label()}: ${step}() is out of order (expected ${order})`);
  }
}
