/**
 * A pipeline that only publishes (DESIGN.md §1): `source → clean → operators → toStream`, no window and no
 * result table. What `.toStream()` returns is such a pipeline, ready to be a module's default export, and also
 * the builder of a windowed pipeline that publishes too (`.keyBy() → .window() → .aggregate() → .sink()`).
 */
import { CompiledPipeline } from '../engine/CompiledPipeline';
import type { OperatorDef, PipelineDefinition, SchemaLike, StreamTap } from '../engine/definition';
import { PipelineDefinitionError } from '../errors';
import type { PipelineSpec, TimeSpec } from '../types';
import { shardTime } from './definitionChecks';
import type { ShardTimeOptions } from './options';
import type { PipelineBuilder } from './pipeline';

/** The `.toStream()` options that time a publish-only pipeline's shards (`.window()`'s otherwise). */
const TIME_OPTIONS = ['idleTimeout', 'maxEventTimeAhead'] as const;

/** What a publish-only definition is made of: the chain up to `.toStream()`. */
export interface PublishOnlyParts {
  readonly name: string;
  readonly source: PipelineSpec['source'];
  readonly schema: SchemaLike;
  readonly eventTime: (value: unknown) => unknown;
  readonly dedupeBy: ((value: unknown) => unknown) | undefined;
  readonly operators: readonly OperatorDef[];
  readonly publish: StreamTap;
  /** `.toStream()`'s `idleTimeout` and `maxEventTimeAhead` (defaults as `.window()`'s). */
  readonly time: ShardTimeOptions;
}

/**
 * A publish-only pipeline's time: nothing is late (no windows); shards go idle and event times may run ahead
 * of arrival as `.toStream()`'s options say, with `.window()`'s defaults and checks.
 */
function publishOnlyTime(options: ShardTimeOptions, label: string): TimeSpec {
  return { allowedLatenessMs: 0, maxOutOfOrdernessMs: 0, ...shardTime(options, label) };
}

/** The definition of a pipeline that ends at `.toStream()`: no window, sink, key or aggregates. */
export function publishOnlyDefinition(parts: PublishOnlyParts, label: string): PipelineDefinition {
  return {
    spec: {
      name: parts.name,
      source: parts.source,
      time: publishOnlyTime(parts.time, label),
      publish: { stream: parts.publish.stream },
      columns: [],
      errorBounds: {},
    },
    schema: parts.schema,
    eventTime: parts.eventTime,
    dedupeBy: parts.dedupeBy,
    operators: parts.operators,
    publish: parts.publish,
    aggregates: [],
  };
}

/**
 * A compiled publish-only pipeline, and the builder after `.toStream()`: `keyBy()` goes on to a windowed
 * pipeline; the other steps throw the DSL's one-line error for their position.
 */
export class PublishOnlyPipeline<T> extends CompiledPipeline<T> {
  readonly #builder: () => PipelineBuilder<T>;
  /** The time options `.toStream()` was given, which a windowed pipeline takes from `.window()` instead. */
  readonly #timeGiven: readonly string[];

  /** @internal */
  public constructor(def: PipelineDefinition, builder: () => PipelineBuilder<T>, time: ShardTimeOptions) {
    super(def);
    this.#builder = builder;
    this.#timeGiven = TIME_OPTIONS.filter((option) => time[option] !== undefined);
  }

  /**
   * Goes on to a windowed pipeline that also publishes (see `PipelineBuilder.keyBy`). Throws when
   * `.toStream()` was given time options: a windowed pipeline takes them from `.window()`.
   */
  public keyBy(fn: (value: T) => string, column?: string): PipelineBuilder<T> {
    if (this.#timeGiven.length > 0) {
      const [what, verb, it] =
        this.#timeGiven.length === 1 ? ['option', 'applies', 'it'] : ['options', 'apply', 'them'];
      throw new PipelineDefinitionError(
        `Pipeline ${JSON.stringify(this.spec.name)}: toStream() ${what} ${this.#timeGiven.join(' and ')} ${verb} only to a pipeline that ends at toStream(); one that goes on to keyBy() sets ${it} in window()'s options`,
      );
    }
    return this.#builder().keyBy(fn, column);
  }

  /** Throws: `window()` needs `keyBy()` before it. */
  public window(...args: Parameters<PipelineBuilder<T>['window']>): never {
    return this.#builder().window(...args) as never;
  }

  /** Throws: `aggregate()` is out of order. */
  public aggregate(...args: Parameters<PipelineBuilder<T>['aggregate']>): never {
    return this.#builder().aggregate(...args) as never;
  }

  /** Throws: a publish-only pipeline has no result table. */
  public sink(...args: Parameters<PipelineBuilder<T>['sink']>): never {
    return this.#builder().sink(...args) as never;
  }

  /** Throws: operators come before `toStream()`. */
  public map(fn: (value: T) => unknown, name?: string): never {
    return this.#builder().map(fn, name) as never;
  }

  /** Throws: operators come before `toStream()`. */
  public filter(fn: (value: T) => boolean, name?: string): never {
    return this.#builder().filter(fn, name) as never;
  }

  /** Throws: operators come before `toStream()`. */
  public flatMap(fn: (value: T) => Iterable<unknown>, name?: string): never {
    return this.#builder().flatMap(fn, name) as never;
  }

  /** Throws: `toStream()` may appear once. */
  public toStream(...args: Parameters<PipelineBuilder<T>['toStream']>): never {
    return this.#builder().toStream(...args) as never;
  }
}
