/**
 * The stored items of the state table, in DynamoDB's attribute-value shape (`{ S }`, `{ N }`, `{ B }`, …)
 * but without the AWS SDK: the DynamoDB store sends them as they are, and the in-memory store keeps them
 * as they are, so both see the same key layout and the same item sizes. Reading an item treats it as
 * hostile: a missing or mistyped attribute is a `StateItemInvalidError`.
 */
import { STATE_TABLE } from '../constants';
import type { EpochMillis } from '../types';
import { StateItemInvalidError } from './errors';
import {
  isFingerprint,
  parseStateShape,
  shapeText,
  stateFingerprint,
  type StateShape,
} from './stateFingerprint';
import { PIPELINE_SORT_KEY, SHAPE_SORT_KEY_PREFIX, progressPartitionKey, shardSortKey } from './keys';
import type { OutputSweep, PendingWindow, PipelineProgress, ProgressSnapshot, ShardProgress } from './types';
import { isValidSequence } from '../sequence';

/** One attribute value, as DynamoDB's JSON protocol writes it. */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: Uint8Array }
  | { readonly BOOL: boolean }
  | { readonly NULL: true };

/** One stored item. */
export type StateItem = Readonly<Record<string, AttributeValue>>;

export const { PARTITION_KEY: PK, SORT_KEY: SK, TTL_ATTRIBUTE: TTL } = STATE_TABLE;

export const s = (value: string): AttributeValue => ({ S: value });
export const n = (value: number): AttributeValue => ({ N: String(value) });
export const nOrNull = (value: number | null): AttributeValue =>
  value === null || value === -Infinity ? { NULL: true } : n(Math.min(value, Number.MAX_SAFE_INTEGER));

export function str(item: StateItem, name: string): string {
  const value = item[name];
  if (value === undefined || !('S' in value))
    throw new StateItemInvalidError(`State item attribute ${name} must be a string`);
  return value.S;
}

export function num(item: StateItem, name: string): number {
  const value = item[name];
  const parsed = value !== undefined && 'N' in value ? Number(value.N) : NaN;
  if (!Number.isFinite(parsed))
    throw new StateItemInvalidError(`State item attribute ${name} must be a finite number`);
  return parsed;
}

export function numOrNull(item: StateItem, name: string): number | null {
  const value = item[name];
  return value === undefined || 'NULL' in value ? null : num(item, name);
}

export function bytes(item: StateItem, name: string): Uint8Array {
  const value = item[name];
  if (value === undefined || !('B' in value))
    throw new StateItemInvalidError(`State item attribute ${name} must be binary`);
  return value.B;
}

/** Bytes DynamoDB counts for an item: attribute names plus values (numbers approximated by their digits). */
export function itemBytes(item: StateItem): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) {
    total += Buffer.byteLength(name, 'utf8');
    if ('S' in value) total += Buffer.byteLength(value.S, 'utf8');
    else if ('N' in value) total += Math.ceil(value.N.replace(/^-|\.|e.*$/g, '').length / 2) + 1;
    else if ('B' in value) total += value.B.byteLength;
    else total += 1;
  }
  return total;
}

/** The key of an item: `{ pk, sk }`. */
export function itemKey(item: StateItem): { readonly pk: string; readonly sk: string } {
  return { pk: str(item, PK), sk: str(item, SK) };
}

function jsonOf(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StateItemInvalidError(`State item attribute ${name} must be JSON`, { cause: error });
  }
}

function pendingFrom(text: string): PendingWindow[] {
  const parsed = jsonOf(text, 'pending');
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(parsed)) throw new StateItemInvalidError('State item attribute pending must be a list');
  return parsed.map((entry: unknown) => {
    if (!Array.isArray(entry) || entry.length !== 4 || !entry.every(ok)) {
      throw new StateItemInvalidError('Pending windows must be [start, end, firstCommit, lastCommit]');
    }
    const [start, end, firstCommit, lastCommit] = entry as [number, number, number, number];
    return { start, end, firstCommit, lastCommit };
  });
}

/** A list of tuples of `size` integers ≥ `min` (attempts, per-operator counts). */
function integerTuples<T extends number[]>(
  text: string,
  name: string,
  size: number,
  min: number,
  what: string,
): T[] {
  const parsed = jsonOf(text, name);
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  if (!Array.isArray(parsed) || !parsed.every((e) => Array.isArray(e) && e.length === size && e.every(ok)))
    throw new StateItemInvalidError(`State item attribute ${name} must be a list of ${what}`);
  return parsed as T[];
}

const SWEEP_FIELDS = '[swept, target, targetAt, dueFrom, dueTo, nextFrom, nextTo]';

/** The sweep mark, stored as {@link SWEEP_FIELDS}. */
function sweepFrom(text: string): OutputSweep {
  const parsed = jsonOf(text, 'sweep');
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
  const valid = Array.isArray(parsed) && parsed.length === 7 && parsed.every(ok);
  const [swept, target, targetAt, dueFrom, dueTo, nextFrom, nextTo] = (valid ? parsed : []) as number[];
  if (!valid || swept! < 0 || target! < swept!)
    throw new StateItemInvalidError(
      `State item attribute sweep must be ${SWEEP_FIELDS} with 0 ≤ swept ≤ target`,
    );
  return {
    swept: swept!,
    target: target!,
    targetAt: targetAt!,
    due: { from: dueFrom!, to: dueTo! },
    next: { from: nextFrom!, to: nextTo! },
  };
}

/** The optional fingerprint attribute `fp` of a progress or segment item. */
export function fingerprintOf(item: StateItem): { shape: string } | Record<string, never> {
  if (item.fp === undefined) return {};
  const value = str(item, 'fp');
  if (!isFingerprint(value))
    throw new StateItemInvalidError(
      `State item attribute fp must be a state fingerprint (given ${JSON.stringify(value.slice(0, 40))})`,
    );
  return { shape: value };
}

function parentsFrom(text: string): string[] {
  const parsed = jsonOf(text, 'parents');
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new StateItemInvalidError('State item attribute parents must be a list of shard ids');
  }
  return parsed as string[];
}

function stateLimitedFrom(text: string): [string, number][] {
  const parsed = jsonOf(text, 'stateLimited');
  const ok = (entry: unknown): boolean =>
    Array.isArray(entry) &&
    entry.length === 2 &&
    isValidSequence(entry[0]) &&
    Number.isSafeInteger(entry[1]) &&
    (entry[1] as number) >= 0;
  if (!Array.isArray(parsed) || !parsed.every(ok)) {
    throw new StateItemInvalidError(
      'State item attribute stateLimited must be a list of [sequence number, expiresAt]',
    );
  }
  return parsed as [string, number][];
}

/** The progress item of a shard. */
export function progressToItem(progress: ShardProgress): StateItem {
  return {
    [PK]: s(progressPartitionKey(progress.pipeline)),
    [SK]: s(shardSortKey(progress.shardId)),
    pipeline: s(progress.pipeline),
    shardId: s(progress.shardId),
    watermark: nOrNull(progress.watermark),
    maxEventTime: nOrNull(progress.maxEventTime),
    lastSequence: s(progress.lastSequence),
    lastActivity: n(progress.lastActivity),
    closed: { BOOL: progress.closed },
    frozen: nOrNull(progress.frozen),
    ...(progress.closedEnd === undefined ? {} : { closedEnd: nOrNull(progress.closedEnd) }),
    commits: n(progress.commits),
    ...(progress.attempts === undefined || progress.attempts.length === 0
      ? {}
      : { attempts: s(JSON.stringify(progress.attempts)) }),
    ...(progress.attemptsFrom === undefined || progress.attemptsFrom <= 1
      ? {}
      : { attemptsFrom: n(progress.attemptsFrom) }),
    pending: s(JSON.stringify(progress.pending.map((p) => [p.start, p.end, p.firstCommit, p.lastCommit]))),
    ...(progress.outputs === undefined
      ? {}
      : {
          outFirst: s(progress.outputs.firstSequence),
          outTime: n(progress.outputs.time),
          outJudged: nOrNull(progress.outputs.judgedBy),
        }),
    ...(progress.sweep === undefined
      ? {}
      : {
          sweep: s(
            JSON.stringify([
              progress.sweep.swept,
              progress.sweep.target,
              progress.sweep.targetAt,
              progress.sweep.due.from,
              progress.sweep.due.to,
              progress.sweep.next.from,
              progress.sweep.next.to,
            ]),
          ),
        }),
    ...(progress.parents === undefined || progress.parents.length === 0
      ? {}
      : { parents: s(JSON.stringify(progress.parents)) }),
    ...(progress.stateLimited === undefined || progress.stateLimited.length === 0
      ? {}
      : { stateLimited: s(JSON.stringify(progress.stateLimited)) }),
    ...(progress.counts === undefined
      ? {}
      : {
          inRecords: n(progress.counts.records),
          inRejected: n(progress.counts.rejected),
          inLate: n(progress.counts.late),
          inDuplicates: n(progress.counts.duplicates),
          ...(progress.counts.published === undefined ? {} : { outPublished: n(progress.counts.published) }),
          ...(progress.counts.operators === undefined || progress.counts.operators.length === 0
            ? {}
            : { inOperators: s(JSON.stringify(progress.counts.operators)) }),
        }),
    ...(progress.shape === undefined ? {} : { fp: s(progress.shape) }),
    version: n(progress.version),
  };
}

export function progressFromItem(item: StateItem): ShardProgress {
  const closed = item.closed;
  return {
    pipeline: str(item, 'pipeline'),
    shardId: str(item, 'shardId'),
    watermark: numOrNull(item, 'watermark'),
    maxEventTime: numOrNull(item, 'maxEventTime'),
    lastSequence: str(item, 'lastSequence'),
    lastActivity: num(item, 'lastActivity'),
    closed: closed !== undefined && 'BOOL' in closed && closed.BOOL,
    frozen: numOrNull(item, 'frozen') ?? -Infinity,
    ...(item.closedEnd === undefined ? {} : { closedEnd: numOrNull(item, 'closedEnd') ?? -Infinity }),
    commits: num(item, 'commits'),
    ...(item.attempts === undefined
      ? {}
      : {
          attempts: integerTuples<[number, number, number]>(
            str(item, 'attempts'),
            'attempts',
            3,
            1,
            '[commit, attempt, expiresAt]',
          ),
        }),
    ...(item.attemptsFrom === undefined ? {} : { attemptsFrom: num(item, 'attemptsFrom') }),
    pending: pendingFrom(str(item, 'pending')),
    ...(item.sweep === undefined ? {} : { sweep: sweepFrom(str(item, 'sweep')) }),
    ...(item.parents === undefined ? {} : { parents: parentsFrom(str(item, 'parents')) }),
    ...(item.stateLimited === undefined ? {} : { stateLimited: stateLimitedFrom(str(item, 'stateLimited')) }),
    ...(item.inRecords === undefined
      ? {}
      : {
          counts: {
            records: num(item, 'inRecords'),
            rejected: num(item, 'inRejected'),
            late: num(item, 'inLate'),
            duplicates: num(item, 'inDuplicates'),
            ...(item.outPublished === undefined ? {} : { published: num(item, 'outPublished') }),
            ...(item.inOperators === undefined
              ? {}
              : {
                  operators: integerTuples<[number, number]>(
                    str(item, 'inOperators'),
                    'inOperators',
                    2,
                    0,
                    '[in, out] counts',
                  ),
                }),
          },
        }),
    ...(item.outFirst === undefined
      ? {}
      : {
          outputs: {
            firstSequence: str(item, 'outFirst'),
            time: num(item, 'outTime'),
            judgedBy: numOrNull(item, 'outJudged') ?? -Infinity,
          },
        }),
    ...fingerprintOf(item),
    version: num(item, 'version'),
  };
}

/** Key of the pipeline item. */
export function pipelineItemKey(pipeline: string): StateItem {
  return { [PK]: s(progressPartitionKey(pipeline)), [SK]: s(PIPELINE_SORT_KEY) };
}

export function pipelineFromItem(item: StateItem): PipelineProgress {
  return {
    pipeline: str(item, 'pipeline'),
    closedWatermark: numOrNull(item, 'closedWatermark') ?? -Infinity,
    ...(item.closedEnd === undefined ? {} : { closedEnd: numOrNull(item, 'closedEnd') ?? -Infinity }),
    emittedThrough: numOrNull(item, 'emittedThrough') ?? -Infinity,
    ...(item.emittedEnd === undefined ? {} : { emittedEnd: numOrNull(item, 'emittedEnd') ?? -Infinity }),
    ...(item.sessionFloor === undefined
      ? {}
      : { sessionFloor: numOrNull(item, 'sessionFloor') ?? -Infinity }),
  };
}

/** Whether a progress-partition item is the pipeline item (the others are shards and shapes). */
export function isPipelineItem(item: StateItem): boolean {
  const sk = item[SK];
  return sk !== undefined && 'S' in sk && sk.S === PIPELINE_SORT_KEY;
}

/** Whether a progress-partition item is a registered state shape. */
export function isShapeItem(item: StateItem): boolean {
  const sk = item[SK];
  return sk !== undefined && 'S' in sk && sk.S.startsWith(SHAPE_SORT_KEY_PREFIX);
}

/** The item that registers `shape` under its fingerprint. */
export function shapeToItem(pipeline: string, shape: StateShape): StateItem {
  return {
    [PK]: s(progressPartitionKey(pipeline)),
    [SK]: s(`${SHAPE_SORT_KEY_PREFIX}${stateFingerprint(shape)}`),
    shape: s(shapeText(shape)),
  };
}

/**
 * A registered shape: its fingerprint (from the sort key) and the shape, undefined when the stored text is
 * not a readable shape or not the one its fingerprint names (hostile or from a newer shardflow).
 */
export function shapeFromItem(item: StateItem): { fingerprint: string; shape: StateShape | undefined } {
  const fingerprint = str(item, SK).slice(SHAPE_SORT_KEY_PREFIX.length);
  const text = item.shape !== undefined && 'S' in item.shape ? item.shape.S : undefined;
  const shape = text === undefined ? undefined : parseStateShape(text);
  return {
    fingerprint,
    shape: shape !== undefined && stateFingerprint(shape) === fingerprint ? shape : undefined,
  };
}

/** The progress snapshot the items of a pipeline's progress partition hold (shards, the pipeline item, shapes). */
export function snapshotFromItems(items: readonly StateItem[]): ProgressSnapshot {
  let pipeline: PipelineProgress | undefined;
  const shards: ShardProgress[] = [];
  const shapes = new Map<string, StateShape | undefined>();
  for (const item of items) {
    if (isPipelineItem(item)) pipeline = pipelineFromItem(item);
    else if (isShapeItem(item)) {
      const { fingerprint, shape } = shapeFromItem(item);
      shapes.set(fingerprint, shape);
    } else shards.push(progressFromItem(item));
  }
  return { shards, pipeline, ...(shapes.size > 0 ? { shapes } : {}) };
}

/** Attributes of the pipeline item that hold a session close pass's claim (`StateStore.claimSessionPass`). */
export const SESSION_PASS = { AFTER: 'sessionPassAfter', END: 'sessionPassEnd' } as const;

/** A claim's `after` as stored: the lowest safe integer for -Infinity (below every real `emittedEnd`). */
export function storedClaimAfter(after: EpochMillis): number {
  return Math.max(after, Number.MIN_SAFE_INTEGER);
}

/**
 * The answer to a claim of `after` (stored form) once the pipeline item holds `item`'s claim: its `end`
 * when the stored claim is for the same `after`, else undefined (a later pass claimed, or none is readable).
 */
export function claimedEnd(item: StateItem | undefined, after: number): EpochMillis | undefined {
  if (item === undefined) return undefined;
  const storedAfter = numOrNull(item, SESSION_PASS.AFTER);
  const end = numOrNull(item, SESSION_PASS.END);
  return storedAfter === after && end !== null ? end : undefined;
}

/** The watermark value DynamoDB stores for `value` (±Infinity clamped; -Infinity is absent). */
export function storedMark(value: EpochMillis): number | null {
  return value === -Infinity ? null : Math.min(value, Number.MAX_SAFE_INTEGER);
}
