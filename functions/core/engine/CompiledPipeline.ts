import type { AnyColumnAggregate } from '../aggregates/columnAggregate';
import { describe } from '../aggregates/columnAggregate';
import * as payloadCodec from '../codec/payloadCodec';
import { decodeJson, MAX_REJECTED_DATA_CHARS } from '../codec/payloadCodec';
import { deaggregate, isKplAggregate } from '../codec/kplAggregate';
import * as sequences from '../sequence';
import { padSequence } from '../sequence';
import { StateDeserializationError } from '../errors';
import {
  REJECT_REASONS,
  type EpochMillis,
  type Fence,
  type Json,
  type LateRecord,
  type PipelineSpec,
  type RawRecord,
  type Rejection,
  type RejectReason,
  type ResultRow,
  type WindowBounds,
  type WindowPartial,
} from '../types';
import { slidingWindows } from '../windows/slidingWindow';
import * as tumblingWindow from '../windows/tumblingWindow';
import type {
  CleanedRecord,
  CombineStats,
  FenceLookup,
  Pipeline,
  PositionedValue,
  PreparedBatch,
  PrepareOptions,
  RoutedElement,
  SeenIdsLookup,
  ShardBatchSummary,
} from './types';

// Hot-path functions bound once: under CommonJS interop (tsx, jest, esbuild's cjs output) each use of a
// named import is a getter call on the other module's exports, ~3% of the engine bench profile.
const { decodeRecordData, PayloadFailure, UndecodedPayload } = payloadCodec;
const { normalizeSequence, sequenceGreater } = sequences;
const { tumblingWindowStart } = tumblingWindow;

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

/** Rejection detail when a schema answers with a promise (an async refinement or transform). */
const ASYNC_SCHEMA =
  '(root): the clean schema validated asynchronously; shardflow needs a synchronous schema (no async refinements or transforms)';

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

/** Everything a finished DSL definition carries. */
export interface PipelineDefinition {
  readonly spec: PipelineSpec;
  readonly schema: SchemaLike;
  readonly eventTime: (value: unknown) => unknown;
  readonly dedupeBy: ((value: unknown) => unknown) | undefined;
  readonly operators: readonly OperatorDef[];
  readonly keyBy: (value: unknown) => unknown;
  readonly keyColumn: string;
  /** Aggregates in column order. */
  readonly aggregates: readonly {
    readonly column: string;
    readonly aggregate: AnyColumnAggregate<unknown>;
  }[];
}

/** Per-record scratch reused across records (no per-record allocation for bookkeeping). */
interface RecordContext {
  shardId: string;
  sequenceNumber: string;
  sequence: string;
  subSequenceNumber: number | undefined;
  partitionKey: string;
  data: string;
  eventTime: EpochMillis;
  dedupeId: string | undefined;
  ordinal: number;
  failed: boolean;
}

/** Mutable outputs of one `prepare` call. */
interface BatchOutput {
  readonly rejected: Rejection[];
  readonly late: LateRecord[];
  readonly cleaned: CleanedRecord[];
  readonly elements: RoutedElement[];
  readonly shards: Map<string, { maxEventTime: EpochMillis | null; lastSequence: string; records: number }>;
  readonly closedWatermark: EpochMillis;
  /** One-entry cache of the last shard's summary (batches come in shard runs). */
  lastShardId: string | undefined;
  lastShard: { maxEventTime: EpochMillis | null; lastSequence: string; records: number } | undefined;
}

/**
 * A compiled pipeline: the pure batch path of DESIGN.md §1–3. Built by the DSL's `.sink()`; the CDK stack
 * only reads `spec`.
 */
export class CompiledPipeline<T = unknown> implements Pipeline<T> {
  public readonly spec: PipelineSpec;
  private readonly def: PipelineDefinition;
  /** The schema's `validate`, bound once (it is called per record). */
  private readonly validate: (value: unknown) => SchemaResult | PromiseLike<SchemaResult>;
  private readonly aggs: readonly AnyColumnAggregate<unknown>[];
  /** The aggregates' `input` and `validate` functions, by column: read from arrays in the per-record loop. */
  private readonly inputFns: readonly ((value: unknown) => unknown)[];
  private readonly validateFns: readonly ((input: unknown) => string | undefined)[];
  private readonly columns: readonly string[];
  private readonly lateness: number;
  private readonly maxAhead: number;
  private lastWindows: WindowBounds[] | undefined;

  public constructor(def: PipelineDefinition) {
    this.def = def;
    const standard = def.schema['~standard'];
    this.validate = (value) => standard.validate(value);
    this.spec = def.spec;
    this.aggs = def.aggregates.map((a) => a.aggregate);
    this.inputFns = this.aggs.map((a) => a.input.bind(a));
    this.validateFns = this.aggs.map((a) => a.validate.bind(a));
    this.columns = def.aggregates.map((a) => a.column);
    this.lateness = def.spec.time.allowedLatenessMs;
    this.maxAhead = def.spec.time.maxEventTimeAheadMs;
  }

  public prepare(records: readonly RawRecord[], options: PrepareOptions): PreparedBatch {
    const out = this.newOutput(options);
    const ctx = newContext();
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      ctx.shardId = r.shardId;
      ctx.sequenceNumber = r.sequenceNumber;
      ctx.sequence = normalizeSequence(r.sequenceNumber);
      ctx.subSequenceNumber = r.subSequenceNumber;
      ctx.partitionKey = r.partitionKey;
      ctx.data = r.data;
      this.noteShard(out, ctx.shardId, ctx.sequence);
      const value = decodeRecordData(r.data);
      if (value instanceof UndecodedPayload) {
        const bytes = value.bytes;
        if (!isKplAggregate(bytes)) {
          this.processDecoded(out, ctx, decodeJson(bytes), r.approximateArrivalTimestamp);
          continue;
        }
        const subs = deaggregate(bytes);
        if (subs instanceof PayloadFailure) {
          this.reject(out, ctx, subs.reason, subs.detail);
          continue;
        }
        for (const sub of subs) {
          ctx.subSequenceNumber = sub.subSequenceNumber;
          ctx.partitionKey = sub.partitionKey;
          ctx.data = Buffer.from(sub.data.buffer, sub.data.byteOffset, sub.data.length).toString('base64');
          this.processDecoded(out, ctx, decodeJson(sub.data), r.approximateArrivalTimestamp);
        }
        continue;
      }
      this.processDecoded(out, ctx, value, r.approximateArrivalTimestamp);
    }
    return this.finish(out);
  }

  public prepareValues(values: readonly PositionedValue[], options: PrepareOptions): PreparedBatch {
    const out = this.newOutput(options);
    const ctx = newContext();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      ctx.shardId = v.shardId;
      ctx.sequenceNumber = v.sequenceNumber;
      ctx.sequence = normalizeSequence(v.sequenceNumber);
      ctx.subSequenceNumber = undefined;
      ctx.partitionKey = '';
      ctx.data = '';
      this.noteShard(out, ctx.shardId, ctx.sequence);
      const before = out.rejected.length;
      this.processValue(out, ctx, v.value, v.approximateArrivalTimestamp ?? Infinity);
      if (out.rejected.length > before) {
        // Only a rejected value pays for its payload encoding.
        const rej = out.rejected[before]!;
        out.rejected[before] = { ...rej, data: encodeForRejection(v.value) };
      }
    }
    return this.finish(out);
  }

  public combine(
    prepared: PreparedBatch,
    fence: FenceLookup,
    seenIds?: SeenIdsLookup,
    stats?: CombineStats,
  ): WindowPartial[] {
    return this.spec.window.kind === 'session'
      ? this.combineSessions(prepared, fence, seenIds, stats)
      : this.combineFixed(prepared, fence, seenIds, stats);
  }

  public mergeState(
    a: Readonly<Record<string, Json>>,
    b: Readonly<Record<string, Json>>,
  ): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (let i = 0; i < this.aggs.length; i++) {
      const agg = this.aggs[i]!;
      const col = this.columns[i]!;
      const sa = a[col];
      const sb = b[col];
      if (sa === undefined && sb === undefined) continue;
      const merged = agg.merge(this.load(agg, col, sa), this.load(agg, col, sb));
      out[col] = agg.serialize(merged);
    }
    return out;
  }

  public resultRow(
    key: string,
    window: WindowBounds,
    state: Readonly<Record<string, Json>>,
    _records: number,
  ): ResultRow {
    const row: Record<string, string | number | bigint | boolean | null> = {};
    row[this.def.keyColumn] = key;
    row['window_start'] = window.start;
    row['window_end'] = window.end;
    for (let i = 0; i < this.aggs.length; i++) {
      const agg = this.aggs[i]!;
      const col = this.columns[i]!;
      const result = agg.result(this.load(agg, col, state[col]));
      row[col] =
        agg.outputType === 'json' ? JSON.stringify(result) : (result as string | number | boolean | null);
    }
    return row;
  }

  public closeTime(window: WindowBounds): EpochMillis {
    return window.end + this.lateness;
  }

  public isClosed(window: WindowBounds, watermark: EpochMillis): boolean {
    return watermark >= window.end + this.lateness;
  }

  /** Empty serialised state (every column at its identity). */
  public emptyState(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (let i = 0; i < this.aggs.length; i++)
      out[this.columns[i]!] = this.aggs[i]!.serialize(this.aggs[i]!.create());
    return out;
  }

  /** The windows a record at `eventTime` belongs to (sessions: the record's own `[t, t + gap)`). */
  public windowsFor(eventTime: EpochMillis): WindowBounds[] {
    const w = this.spec.window;
    if (w.kind === 'tumbling') {
      const start = tumblingWindowStart(eventTime, w.sizeMs);
      return [{ start, end: start + w.sizeMs }];
    }
    if (w.kind === 'sliding') return slidingWindows(eventTime, w.sizeMs, w.slideMs);
    return [{ start: eventTime, end: eventTime + w.gapMs }];
  }

  /**
   * `windowsFor`, reusing the previous array when a tumbling window repeats (records of a batch mostly
   * share a window; the arrays are never mutated, so sharing them is safe).
   */
  private windowsCached(eventTime: EpochMillis): WindowBounds[] {
    const w = this.spec.window;
    if (w.kind !== 'tumbling') return this.windowsFor(eventTime);
    const start = tumblingWindowStart(eventTime, w.sizeMs);
    if (this.lastWindows !== undefined && this.lastWindows[0]!.start === start) return this.lastWindows;
    this.lastWindows = [{ start, end: start + w.sizeMs }];
    return this.lastWindows;
  }

  private load(agg: AnyColumnAggregate<unknown>, col: string, stored: Json | undefined): unknown {
    if (stored === undefined) return agg.create();
    try {
      return agg.deserialize(stored);
    } catch (err) {
      if (err instanceof StateDeserializationError)
        throw new StateDeserializationError(`column ${col}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  private newOutput(options: PrepareOptions): BatchOutput {
    return {
      rejected: [],
      late: [],
      cleaned: [],
      elements: [],
      shards: new Map(),
      closedWatermark: options.closedWatermark,
      lastShardId: undefined,
      lastShard: undefined,
    };
  }

  private noteShard(out: BatchOutput, shardId: string, sequence: string): void {
    let s = out.lastShardId === shardId ? out.lastShard : out.shards.get(shardId);
    if (s === undefined) {
      s = { maxEventTime: null, lastSequence: sequence, records: 1 };
      out.shards.set(shardId, s);
    } else {
      if (sequenceGreater(sequence, s.lastSequence)) s.lastSequence = sequence;
      s.records++;
    }
    out.lastShardId = shardId;
    out.lastShard = s;
  }

  private reject(out: BatchOutput, ctx: RecordContext, reason: RejectReason, detail: string): void {
    const base = {
      reason,
      detail,
      shardId: ctx.shardId,
      sequenceNumber: ctx.sequenceNumber,
      partitionKey: ctx.partitionKey,
      data: ctx.data.length > MAX_REJECTED_DATA_CHARS ? ctx.data.slice(0, MAX_REJECTED_DATA_CHARS) : ctx.data,
    };
    out.rejected.push(
      ctx.subSequenceNumber === undefined ? base : { ...base, subSequenceNumber: ctx.subSequenceNumber },
    );
  }

  /** A decoded payload: rejected with its failure, else processed as a value. */
  private processDecoded(out: BatchOutput, ctx: RecordContext, decoded: unknown, arrival: EpochMillis): void {
    if (decoded instanceof PayloadFailure) this.reject(out, ctx, decoded.reason, decoded.detail);
    else this.processValue(out, ctx, decoded, arrival);
  }

  /** Clean → event time → dedupe id → operator chain → key → aggregate inputs → windows, for one value. */
  private processValue(out: BatchOutput, ctx: RecordContext, raw: unknown, arrival: EpochMillis): void {
    const def = this.def;
    let parsed: SchemaResult | PromiseLike<SchemaResult>;
    try {
      parsed = this.validate(raw);
    } catch (err) {
      this.reject(
        out,
        ctx,
        REJECT_REASONS.SCHEMA_VIOLATION,
        `(root): the schema threw: ${errorMessage(err)}`,
      );
      return;
    }
    if ('then' in parsed) {
      this.reject(out, ctx, REJECT_REASONS.SCHEMA_VIOLATION, ASYNC_SCHEMA);
      return;
    }
    if (parsed.issues !== undefined) {
      const issue = parsed.issues[0];
      const path =
        issue?.path === undefined || issue.path.length === 0
          ? '(root)'
          : issue.path
              .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
              .join('.');
      this.reject(out, ctx, REJECT_REASONS.SCHEMA_VIOLATION, `${path}: ${issue?.message ?? 'invalid'}`);
      return;
    }
    const value = parsed.value;
    let eventTime: unknown;
    try {
      eventTime = def.eventTime(value);
    } catch (err) {
      this.reject(out, ctx, REJECT_REASONS.OPERATOR_THREW, `operator eventTime threw: ${errorMessage(err)}`);
      return;
    }
    if (typeof eventTime !== 'number' || !Number.isFinite(eventTime)) {
      this.reject(out, ctx, REJECT_REASONS.MISSING_EVENT_TIME, `eventTime returned ${describe(eventTime)}`);
      return;
    }
    if (eventTime < MIN_EVENT_TIME) {
      this.reject(out, ctx, REJECT_REASONS.ABSURD_EVENT_TIME, `event time ${eventTime} is before 2000-01-01`);
      return;
    }
    if (eventTime > arrival + this.maxAhead) {
      this.reject(
        out,
        ctx,
        REJECT_REASONS.EVENT_TIME_AHEAD,
        `event time ${eventTime} is ${eventTime - arrival} ms after arrival ${arrival} (maxEventTimeAhead ${this.maxAhead} ms)`,
      );
      return;
    }
    let dedupeId: string | undefined;
    if (def.dedupeBy !== undefined) {
      let id: unknown;
      try {
        id = def.dedupeBy(value);
      } catch (err) {
        this.reject(out, ctx, REJECT_REASONS.OPERATOR_THREW, `operator dedupeBy threw: ${errorMessage(err)}`);
        return;
      }
      if (keyProblem(id) !== undefined) {
        this.reject(
          out,
          ctx,
          REJECT_REASONS.OPERATOR_RETURNED_INVALID,
          `operator dedupeBy returned ${describe(id)}, which ${keyProblem(id)!}`,
        );
        return;
      }
      dedupeId = id as string;
    }
    ctx.eventTime = eventTime;
    ctx.dedupeId = dedupeId;
    ctx.ordinal = 0;
    ctx.failed = false;
    const elementMark = out.elements.length;
    const lateMark = out.late.length;
    if (def.operators.length === 0) this.route(out, ctx, value);
    else this.runOperators(out, ctx, value, 0);
    if (ctx.failed) {
      // A failure anywhere in a record's fan-out rejects the whole record: undo what it already routed.
      out.elements.length = elementMark;
      out.late.length = lateMark;
      return;
    }
    // What the record tells the watermark: its event time, but never more than its arrival time, so a
    // producer clock running ahead (within maxEventTimeAhead) cannot close windows before real time does.
    const shard = out.lastShard!;
    const watermarkTime = eventTime < arrival ? eventTime : arrival;
    if (shard.maxEventTime === null || watermarkTime > shard.maxEventTime) shard.maxEventTime = watermarkTime;
    const cleaned = {
      shardId: ctx.shardId,
      sequenceNumber: ctx.sequenceNumber,
      partitionKey: ctx.partitionKey,
      eventTime,
      value,
    };
    out.cleaned.push(
      ctx.subSequenceNumber === undefined
        ? cleaned
        : { ...cleaned, subSequenceNumber: ctx.subSequenceNumber },
    );
  }

  private runOperators(out: BatchOutput, ctx: RecordContext, value: unknown, from: number): void {
    const ops = this.def.operators;
    let v = value;
    for (let i = from; i < ops.length; i++) {
      const op = ops[i]!;
      let result: unknown;
      try {
        result = op.fn(v);
      } catch (err) {
        this.fail(out, ctx, REJECT_REASONS.OPERATOR_THREW, `operator ${op.name} threw: ${errorMessage(err)}`);
        return;
      }
      if (op.kind === OPERATOR_KIND.MAP) {
        if (result === undefined) {
          this.fail(
            out,
            ctx,
            REJECT_REASONS.OPERATOR_RETURNED_INVALID,
            `operator ${op.name} returned undefined`,
          );
          return;
        }
        v = result;
      } else if (op.kind === OPERATOR_KIND.FILTER) {
        if (typeof result !== 'boolean') {
          this.fail(
            out,
            ctx,
            REJECT_REASONS.OPERATOR_RETURNED_INVALID,
            `operator ${op.name} returned ${describe(result)}, not a boolean`,
          );
          return;
        }
        if (!result) return;
      } else {
        if (Array.isArray(result)) {
          for (let j = 0; j < result.length && !ctx.failed; j++) {
            if (!this.runElement(out, ctx, op.name, result[j], i + 1)) return;
          }
        } else if (result !== null && typeof result === 'object' && Symbol.iterator in result) {
          try {
            for (const item of result as Iterable<unknown>) {
              if (ctx.failed) return;
              if (!this.runElement(out, ctx, op.name, item, i + 1)) return;
            }
          } catch (err) {
            this.fail(
              out,
              ctx,
              REJECT_REASONS.OPERATOR_THREW,
              `operator ${op.name} threw while iterating: ${errorMessage(err)}`,
            );
          }
        } else {
          this.fail(
            out,
            ctx,
            REJECT_REASONS.OPERATOR_RETURNED_INVALID,
            `operator ${op.name} returned ${describe(result)}, not an iterable`,
          );
        }
        return;
      }
    }
    this.route(out, ctx, v);
  }

  /**
   * One element of a flatMap result through the rest of the chain (from operator `next`); an undefined
   * element fails the record.
   *
   * @returns false when the element was undefined.
   */
  private runElement(
    out: BatchOutput,
    ctx: RecordContext,
    opName: string,
    item: unknown,
    next: number,
  ): boolean {
    if (item === undefined) {
      this.fail(
        out,
        ctx,
        REJECT_REASONS.OPERATOR_RETURNED_INVALID,
        `operator ${opName} returned an undefined element`,
      );
      return false;
    }
    this.runOperators(out, ctx, item, next);
    return true;
  }

  private fail(out: BatchOutput, ctx: RecordContext, reason: RejectReason, detail: string): void {
    if (ctx.failed) return;
    ctx.failed = true;
    this.reject(out, ctx, reason, detail);
  }

  /** Key, aggregate inputs and windows of one value at the end of the chain. */
  private route(out: BatchOutput, ctx: RecordContext, value: unknown): void {
    let key: unknown;
    try {
      key = this.def.keyBy(value);
    } catch (err) {
      this.fail(out, ctx, REJECT_REASONS.OPERATOR_THREW, `operator keyBy threw: ${errorMessage(err)}`);
      return;
    }
    const keyIssue = keyProblem(key);
    if (keyIssue !== undefined) {
      this.fail(
        out,
        ctx,
        REJECT_REASONS.INVALID_KEY,
        `keyBy returned ${describe(key)}, which ${keyIssue}; keys are strings of 1..${MAX_KEY_BYTES} UTF-8 bytes`,
      );
      return;
    }
    const validKey = key as string;
    const inputFns = this.inputFns;
    const validateFns = this.validateFns;
    const inputs = new Array<unknown>(inputFns.length);
    for (let i = 0; i < inputFns.length; i++) {
      let input: unknown;
      try {
        input = inputFns[i]!(value);
      } catch (err) {
        this.fail(
          out,
          ctx,
          REJECT_REASONS.OPERATOR_THREW,
          `aggregate ${this.columns[i]!} threw: ${errorMessage(err)}`,
        );
        return;
      }
      const problem = validateFns[i]!(input);
      if (problem !== undefined) {
        this.fail(
          out,
          ctx,
          REJECT_REASONS.OPERATOR_RETURNED_INVALID,
          `aggregate ${this.columns[i]!}: ${problem}`,
        );
        return;
      }
      inputs[i] = input;
    }
    const ordinal = ctx.ordinal++;
    const dedupeId =
      ctx.dedupeId === undefined ? undefined : ordinal === 0 ? ctx.dedupeId : `${ctx.dedupeId}#${ordinal}`;
    const all = this.windowsCached(ctx.eventTime);
    let open: WindowBounds[] = all;
    for (let i = 0; i < all.length; i++) {
      const w = all[i]!;
      if (out.closedWatermark >= w.end + this.lateness) {
        if (open === all) open = all.slice(0, i);
        out.late.push({
          key: validKey,
          windowStart: w.start,
          windowEnd: w.end,
          eventTime: ctx.eventTime,
          watermark: out.closedWatermark,
          shardId: ctx.shardId,
          sequenceNumber: ctx.sequenceNumber,
          value,
        });
      } else if (open !== all) {
        open.push(w);
      }
    }
    if (open.length === 0) return;
    out.elements.push({
      shardId: ctx.shardId,
      sequence: ctx.sequence,
      eventTime: ctx.eventTime,
      key: validKey,
      inputs,
      dedupeId,
      windows: open,
    });
  }

  private finish(out: BatchOutput): PreparedBatch {
    const shards: Record<string, ShardBatchSummary> = {};
    for (const [id, s] of out.shards)
      shards[id] = {
        maxEventTime: s.maxEventTime,
        lastSequence: padSequence(s.lastSequence),
        records: s.records,
      };
    const common = {
      rejected: out.rejected,
      late: out.late,
      cleaned: out.cleaned,
      shards,
      elements: out.elements,
    };
    if (this.spec.window.kind === 'session') return { groups: sessionGroups(out.elements), ...common };
    const fixed = fixedGroups(out.elements);
    GROUP_INDEX.set(out.elements, fixed);
    return { groups: fixed.groups, ...common };
  }

  private combineFixed(
    prepared: PreparedBatch,
    fence: FenceLookup,
    seenIds: SeenIdsLookup | undefined,
    stats: CombineStats | undefined,
  ): WindowPartial[] {
    // prepare numbered the (key, window) groups; each (element, window) pair carries its group's index,
    // so the accumulators are an array (created on first use, in first-appearance order as before).
    // The index is only valid for the very elements array prepare numbered (a caller may pass a copy of
    // the batch with other elements): otherwise number the groups again.
    const cached = GROUP_INDEX.get(prepared.elements);
    const { groups, elementGroups } = cached ?? fixedGroups(prepared.elements);
    const accs = new Array<Accumulator | undefined>(groups.length);
    const all: Accumulator[] = [];
    const elements = prepared.elements;
    let pair = 0;
    for (let e = 0; e < elements.length; e++) {
      const el = elements[e]!;
      for (let w = 0; w < el.windows.length; w++) {
        const g = elementGroups[pair++]!;
        let acc = accs[g];
        if (acc === undefined) {
          const window = el.windows[w]!;
          acc = this.newAccumulator(el.key, window, fence(el.key, window), seenIds?.(el.key, window));
          accs[g] = acc;
          all.push(acc);
        }
        // A record in several (sliding) windows counts as one duplicate: in its first window.
        if (this.accumulate(acc, el) && w === 0 && stats !== undefined) stats.duplicates++;
      }
    }
    this.addRows(all);
    return this.partials(all);
  }

  private combineSessions(
    prepared: PreparedBatch,
    fence: FenceLookup,
    seenIds: SeenIdsLookup | undefined,
    stats: CombineStats | undefined,
  ): WindowPartial[] {
    const gap = (this.spec.window as { gapMs: number }).gapMs;
    const byKey = new Map<string, RoutedElement[]>();
    for (const el of prepared.elements) {
      const w = el.windows[0]!;
      const f = fence(el.key, w);
      if (f !== undefined && isFenced(f, el)) continue;
      if (el.dedupeId !== undefined && seenIds?.(el.key, w)?.has(el.dedupeId) === true) {
        if (stats !== undefined) stats.duplicates++;
        continue;
      }
      const list = byKey.get(el.key);
      if (list === undefined) byKey.set(el.key, [el]);
      else list.push(el);
    }
    const out: Accumulator[] = [];
    for (const [key, list] of byKey) {
      list.sort((a, b) => a.eventTime - b.eventTime);
      let acc: Accumulator | undefined;
      for (const el of list) {
        if (acc === undefined || el.eventTime > acc.end) {
          acc = this.newAccumulator(
            key,
            { start: el.eventTime, end: el.eventTime + gap },
            undefined,
            undefined,
          );
          out.push(acc);
        }
        if (el.eventTime + gap > acc.end) acc.end = el.eventTime + gap;
        if (this.accumulate(acc, el) && stats !== undefined) stats.duplicates++;
      }
    }
    this.addRows(out);
    return this.partials(out);
  }

  private newAccumulator(
    key: string,
    window: WindowBounds,
    fence: Fence | undefined,
    seen: ReadonlySet<string> | undefined,
  ): Accumulator {
    const states = new Array<unknown>(this.aggs.length);
    for (let i = 0; i < this.aggs.length; i++) states[i] = this.aggs[i]!.create();
    return {
      key,
      start: window.start,
      end: window.end,
      fence,
      seen,
      states,
      rows: [],
      records: 0,
      shardIds: [],
      shardMax: [],
      ids: undefined,
    };
  }

  /**
   * Adds `el` to `acc` unless fenced or a duplicate; true when it was dropped as a duplicate. A dropped
   * duplicate still moves the window's fence: a redelivery then skips it as handled, instead of judging it
   * again (it could be late by then).
   */
  private accumulate(acc: Accumulator, el: RoutedElement): boolean {
    if (acc.fence !== undefined && isFenced(acc.fence, el)) return false;
    if (el.dedupeId !== undefined) {
      if (acc.seen?.has(el.dedupeId) === true) return this.advanceFence(acc, el);
      if (acc.ids === undefined) acc.ids = new Set();
      // One hash lookup instead of has + add: an id already present leaves the size unchanged.
      const size = acc.ids.size;
      if (acc.ids.add(el.dedupeId).size === size) return this.advanceFence(acc, el);
    }
    // Aggregation itself happens column by column in addRows, once the window's rows are known.
    acc.rows.push(el.inputs);
    acc.records++;
    this.advanceFence(acc, el);
    return false;
  }

  /** Raises `acc`'s highest sequence number of `el`'s shard to `el`'s; returns true (for `accumulate`). */
  private advanceFence(acc: Accumulator, el: RoutedElement): true {
    // A window sees one or two shards: a short array scan instead of a keyed (megamorphic) property access.
    const shardIds = acc.shardIds;
    let j = 0;
    while (j < shardIds.length && shardIds[j] !== el.shardId) j++;
    if (j === shardIds.length) {
      shardIds.push(el.shardId);
      acc.shardMax.push(el.sequence);
    } else if (sequenceGreater(el.sequence, acc.shardMax[j]!)) {
      acc.shardMax[j] = el.sequence;
    }
    return true;
  }

  /**
   * Adds every accumulator's accepted rows into its states, one aggregate (column) at a time: one
   * `addColumn` call per (window, aggregate) instead of one polymorphic `add` per record and aggregate.
   * Per aggregate the rows are added in element order, as record-by-record `add` would.
   */
  private addRows(accs: readonly Accumulator[]): void {
    const aggs = this.aggs;
    for (let a = 0; a < accs.length; a++) {
      const acc = accs[a]!;
      const rows = acc.rows;
      if (rows.length === 0) continue;
      for (let i = 0; i < aggs.length; i++) {
        const agg = aggs[i]!;
        if (agg.addColumn !== undefined) {
          acc.states[i] = agg.addColumn(acc.states[i], rows, i);
        } else {
          let state = acc.states[i];
          for (let r = 0; r < rows.length; r++) state = agg.add(state, rows[r]![i]);
          acc.states[i] = state;
        }
      }
      rows.length = 0;
    }
  }

  private partials(accs: Iterable<Accumulator>): WindowPartial[] {
    const out: WindowPartial[] = [];
    for (const acc of accs) {
      // Without records, a partial only carries the fence over the duplicates it dropped.
      if (acc.records === 0 && acc.shardIds.length === 0) continue;
      const state: Record<string, Json> = {};
      for (let i = 0; i < this.aggs.length; i++)
        state[this.columns[i]!] = this.aggs[i]!.serialize(acc.states[i]);
      const maxSequence: Record<string, string> = {};
      for (let j = 0; j < acc.shardIds.length; j++)
        maxSequence[acc.shardIds[j]!] = padSequence(acc.shardMax[j]!);
      const partial = {
        key: acc.key,
        window: { start: acc.start, end: acc.end },
        state,
        records: acc.records,
        maxSequence,
      };
      out.push(acc.ids === undefined ? partial : { ...partial, dedupeIds: [...acc.ids] });
    }
    return out;
  }
}

interface Accumulator {
  readonly key: string;
  readonly start: EpochMillis;
  end: EpochMillis;
  readonly fence: Fence | undefined;
  readonly seen: ReadonlySet<string> | undefined;
  readonly states: unknown[];
  /** Aggregate inputs of the accepted elements, not yet added to `states` (see `addRows`). */
  readonly rows: (readonly unknown[])[];
  records: number;
  /** Shards that contributed, in first-contribution order, and the highest (normalised) sequence of each. */
  readonly shardIds: string[];
  readonly shardMax: string[];
  ids: Set<string> | undefined;
}

/** The fence holds padded sequence numbers; elements carry normalised ones (padded only when fenced). */
function isFenced(fence: Fence, el: RoutedElement): boolean {
  const f = fence[el.shardId];
  return f !== undefined && padSequence(el.sequence) <= f;
}

function newContext(): RecordContext {
  return {
    shardId: '',
    sequenceNumber: '',
    sequence: '',
    subSequenceNumber: undefined,
    partitionKey: '',
    data: '',
    eventTime: 0,
    dedupeId: undefined,
    ordinal: 0,
    failed: false,
  };
}

/** The windows of one key seen so far by {@link fixedGroups}, with the last one looked up. */
interface KeyGroups {
  lastStart: number;
  lastGroup: number;
  readonly byStart: Map<number, number>;
}

/** What {@link fixedGroups} computed for a batch's elements array, so `combine` does not compute it again. */
interface FixedGroups {
  readonly groups: { key: string; window: WindowBounds }[];
  readonly elementGroups: number[];
}
const GROUP_INDEX = new WeakMap<readonly RoutedElement[], FixedGroups>();

/**
 * The distinct (key, window) pairs of the elements in first-appearance order, and the group index of each
 * (element, window) pair (flattened). Consecutive elements of a key mostly share a window, so the last
 * window of each key is checked before the map.
 */
function fixedGroups(elements: readonly RoutedElement[]): FixedGroups {
  const byKey = new Map<string, KeyGroups>();
  const groups: { key: string; window: WindowBounds }[] = [];
  const elementGroups: number[] = [];
  for (let e = 0; e < elements.length; e++) {
    const el = elements[e]!;
    let kg = byKey.get(el.key);
    if (kg === undefined) {
      kg = { lastStart: NaN, lastGroup: -1, byStart: new Map() };
      byKey.set(el.key, kg);
    }
    for (let w = 0; w < el.windows.length; w++) {
      const window = el.windows[w]!;
      let g = kg.lastGroup;
      if (window.start !== kg.lastStart) {
        g = kg.byStart.get(window.start) ?? -1;
        if (g < 0) {
          g = groups.length;
          groups.push({ key: el.key, window });
          kg.byStart.set(window.start, g);
        }
        kg.lastStart = window.start;
        kg.lastGroup = g;
      }
      elementGroups.push(g);
    }
  }
  return { groups, elementGroups };
}

/** Sessions merged within the batch, per key (what the state layer must look up overlaps for). */
function sessionGroups(elements: readonly RoutedElement[]): { key: string; window: WindowBounds }[] {
  const byKey = new Map<string, WindowBounds[]>();
  for (const el of elements) {
    const list = byKey.get(el.key);
    if (list === undefined) byKey.set(el.key, [el.windows[0]!]);
    else list.push(el.windows[0]!);
  }
  const out: { key: string; window: WindowBounds }[] = [];
  for (const [key, windows] of byKey) {
    windows.sort((a, b) => a.start - b.start);
    let cur: { start: number; end: number } | undefined;
    for (const w of windows) {
      if (cur === undefined || w.start > cur.end) {
        cur = { start: w.start, end: w.end };
        out.push({ key, window: cur });
      } else if (w.end > cur.end) cur.end = w.end;
    }
  }
  return out;
}

function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return msg.length > 500 ? `${msg.slice(0, 500)}…` : msg;
}

function encodeForRejection(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? '';
  } catch {
    text = '';
  }
  const b64 = Buffer.from(text, 'utf8').toString('base64');
  return b64.length > MAX_REJECTED_DATA_CHARS ? b64.slice(0, MAX_REJECTED_DATA_CHARS) : b64;
}
