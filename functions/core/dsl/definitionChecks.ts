/**
 * The DSL's argument checks (`pipeline.ts`): each throws {@link PipelineDefinitionError} naming the bad value.
 */
import { EVOLVED_COLUMN, PARTITION_COLUMNS, WINDOW_COLUMNS } from '../constants';
import { parseDuration } from '../duration';
import { PipelineDefinitionError } from '../errors';
import type { TimeSpec, WindowSpec } from '../types';
import { DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_EVENT_TIME_AHEAD, type ShardTimeOptions } from './options';

/** Largest `maxEventTimeAhead` a pipeline may set. */
const MAX_EVENT_TIME_AHEAD_LIMIT_MS = 86_400_000;

export const PIPELINE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const COLUMN_NAME = /^[a-z][a-z0-9_]{0,62}$/;
export const TABLE_NAME = /^[a-z][a-z0-9_]{0,127}$/;

/**
 * Names of streams and source tables: the service's alphabet and length (Kinesis 1..128, DynamoDB 3..128
 * characters of `[a-zA-Z0-9_.-]`), starting with a letter or a digit, because they name the side-output
 * prefixes in the bucket, where `state/paths.ts` refuses a name that could read as `.`, `..` or a hidden
 * segment. Checked here so a definition the paths would refuse fails when it is written, not at every batch.
 */
export const SOURCE_NAMES = {
  stream: { pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/, min: 1 },
  table: { pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]{2,127}$/, min: 3 },
} as const;

/** Throws unless `name` is a stream (or source table) name shardflow can use; `what` names it in the error. */
export function checkSourceName(
  kind: keyof typeof SOURCE_NAMES,
  name: unknown,
  what: string,
): asserts name is string {
  const { pattern, min } = SOURCE_NAMES[kind];
  if (typeof name !== 'string' || !pattern.test(name))
    throw new PipelineDefinitionError(
      `${what} must be ${min}..128 characters of [a-zA-Z0-9_.-], starting with a letter or digit (given ${JSON.stringify(name)})`,
    );
}
export const RESERVED_COLUMNS: readonly string[] = [
  WINDOW_COLUMNS.START,
  WINDOW_COLUMNS.END,
  EVOLVED_COLUMN,
  ...PARTITION_COLUMNS,
];

export function requireFunction(fn: unknown, what: string): void {
  if (typeof fn !== 'function')
    throw new PipelineDefinitionError(`${what} must be a function (given ${typeof fn})`);
}

export function checkColumnName(column: unknown, what: string): void {
  if (typeof column !== 'string' || !COLUMN_NAME.test(column)) {
    throw new PipelineDefinitionError(
      `${what} name must be a lower-case SQL identifier ([a-z][a-z0-9_]*, at most 63 characters) (given ${JSON.stringify(column)})`,
    );
  }
  if (RESERVED_COLUMNS.includes(column)) {
    throw new PipelineDefinitionError(`${what} name ${JSON.stringify(column)} is reserved`);
  }
}

export function checkWindowSpec(window: WindowSpec, label: string): void {
  const w = window as Partial<Record<string, unknown>> | null;
  const positive = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const ok =
    w !== null &&
    typeof w === 'object' &&
    ((w['kind'] === 'tumbling' && positive(w['sizeMs'])) ||
      (w['kind'] === 'sliding' &&
        positive(w['sizeMs']) &&
        positive(w['slideMs']) &&
        (w['slideMs'] as number) <= (w['sizeMs'] as number)) ||
      (w['kind'] === 'session' && positive(w['gapMs'])));
  if (!ok) {
    throw new PipelineDefinitionError(
      `${label}: window must be tumbling(size), sliding(size, slide) or session(gap) (given ${JSON.stringify(window)})`,
    );
  }
}

export function isAggregate(a: unknown): boolean {
  if (a === null || typeof a !== 'object') return false;
  const o = a as Record<string, unknown>;
  return ['create', 'add', 'merge', 'serialize', 'deserialize', 'result', 'input', 'validate'].every(
    (m) => typeof o[m] === 'function',
  );
}

/** `.toStream(stream, { partitionKey })`: a stream name other than the source's, and a function. */
export function checkStreamTap(stream: unknown, partitionKey: unknown, source: string, label: string): void {
  checkSourceName('stream', stream, `${label}: toStream stream name`);
  if (stream === source) {
    throw new PipelineDefinitionError(
      `${label}: toStream stream must differ from the source stream (given ${JSON.stringify(stream)}: the pipeline would read its own output)`,
    );
  }
  requireFunction(partitionKey, `${label}: toStream partitionKey`);
}

/** `.sink({ toStream })`: a stream name other than the source's, and no `.toStream()` too (one publish stream). */
export function checkResultStream(
  stream: unknown,
  source: string,
  recordsStream: string | undefined,
  label: string,
): void {
  checkSourceName('stream', stream, `${label}: sink toStream stream name`);
  if (stream === source) {
    throw new PipelineDefinitionError(
      `${label}: sink toStream stream must differ from the source stream (given ${JSON.stringify(stream)}: the pipeline would read its own output)`,
    );
  }
  if (recordsStream !== undefined) {
    throw new PipelineDefinitionError(
      `${label}: sink toStream cannot be used with toStream() (it publishes to ${JSON.stringify(recordsStream)}): a pipeline has one publish stream; publish the results from a second pipeline reading ${JSON.stringify(recordsStream)}`,
    );
  }
}

/**
 * A pipeline's shard timing (`.window()`'s options, or a publish-only `.toStream()`'s): `idleTimeout`
 * positive, `maxEventTimeAhead` at most 1 day, each defaulted (`options.ts`).
 */
export function shardTime(
  opts: ShardTimeOptions,
  label: string,
): Pick<TimeSpec, 'idleTimeoutMs' | 'maxEventTimeAheadMs'> {
  const idleTimeoutMs = parseDuration(opts.idleTimeout ?? DEFAULT_IDLE_TIMEOUT, `${label}: idleTimeout`);
  const maxEventTimeAheadMs = parseDuration(
    opts.maxEventTimeAhead ?? DEFAULT_MAX_EVENT_TIME_AHEAD,
    `${label}: maxEventTimeAhead`,
  );
  if (idleTimeoutMs <= 0)
    throw new PipelineDefinitionError(
      `${label}: idleTimeout must be positive (given ${JSON.stringify(opts.idleTimeout)})`,
    );
  if (maxEventTimeAheadMs > MAX_EVENT_TIME_AHEAD_LIMIT_MS)
    throw new PipelineDefinitionError(
      `${label}: maxEventTimeAhead must be at most 1d (given ${JSON.stringify(opts.maxEventTimeAhead)})`,
    );
  return { idleTimeoutMs, maxEventTimeAheadMs };
}
