/**
 * What a finished DSL definition is (DESIGN.md §1): the schema, the user's functions and the aggregates, and
 * the limits every key and dedupe id is checked against. The DSL (`dsl/pipeline.ts`) checks a definition as it
 * is built; the engine classes compile it.
 */
import type { AnyColumnAggregate } from '../aggregates/columnAggregate';
import type { PipelineSpec } from '../types';

/** Event times before this are absurd (2000-01-01T00:00:00Z). */
export const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
/**
 * Longest accepted key and dedupe id, in UTF-8 bytes (what DynamoDB and Parquet measure); longer keys are
 * INVALID_KEY. DynamoDB allows 2,048 bytes in a partition key, and the key shares it with the pipeline name.
 */
export const MAX_KEY_BYTES = 1024;

/**
 * Why `key` cannot be a key, or undefined when it can: a string of 1..MAX_KEY_BYTES UTF-8 bytes without
 * lone surrogates (which UTF-8 cannot carry: two different keys would be stored as the same U+FFFD).
 */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'is not a non-empty string';
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: only long keys need counting.
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    return `is ${Buffer.byteLength(key, 'utf8')} UTF-8 bytes long (at most ${MAX_KEY_BYTES})`;
  }
  // ES2024's String.prototype.isWellFormed (Node ≥ 20); the project's TypeScript lib is ES2022.
  if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed())
    return 'contains a lone UTF-16 surrogate';
  return undefined;
}

/** Operator kinds of the fused chain. */
export const OPERATOR_KIND = { MAP: 'map', FILTER: 'filter', FLAT_MAP: 'flatMap' } as const;
export type OperatorKind = (typeof OPERATOR_KIND)[keyof typeof OPERATOR_KIND];

/** One user operator of the chain. */
export interface OperatorDef {
  readonly kind: OperatorKind;
  readonly name: string;
  readonly fn: (value: unknown) => unknown;
}

/**
 * The schema surface the engine needs: Standard Schema v1 (https://standardschema.dev), which zod,
 * zod/mini, valibot and arktype implement. Validation must be synchronous.
 */
export interface SchemaLike {
  readonly '~standard': {
    readonly version: 1;
    readonly validate: (value: unknown) => SchemaResult | PromiseLike<SchemaResult>;
  };
}

/** A Standard Schema validation result. */
export type SchemaResult =
  | { readonly value: unknown; readonly issues?: undefined }
  | {
      readonly issues: readonly {
        readonly message: string;
        readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
      }[];
    };

/** Where a pipeline publishes the values at the end of its operator chain (`.toStream()`). */
export interface StreamTap {
  readonly stream: string;
  readonly partitionKey: (value: unknown) => unknown;
}

/** Everything a finished DSL definition carries. */
export interface PipelineDefinition {
  readonly spec: PipelineSpec;
  readonly schema: SchemaLike;
  readonly eventTime: (value: unknown) => unknown;
  readonly dedupeBy: ((value: unknown) => unknown) | undefined;
  readonly operators: readonly OperatorDef[];
  /** The stream the chain's values are published to, if any. */
  readonly publish?: StreamTap | undefined;
  /** The key; absent for a publish-only pipeline (no windows, no aggregates). */
  readonly keyBy?: ((value: unknown) => unknown) | undefined;
  readonly keyColumn?: string | undefined;
  /** Aggregates in column order. */
  readonly aggregates: readonly {
    readonly column: string;
    readonly aggregate: AnyColumnAggregate<unknown>;
  }[];
}
