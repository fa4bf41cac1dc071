/**
 * Stage 1 of the fused batch path (DESIGN.md §2): decode each record (base64, JSON, KPL aggregates), clean it
 * with the user's schema, take its event time and dedupe id, and hand the value to the operator chain; every
 * failure becomes a rejection with a reason. The later stages are the subclasses: `OperatorChain` →
 * `ElementRouter` → `WindowCombiner` → `CompiledPipeline`.
 */
import { describe } from '../aggregates/columnAggregate';
import * as payloadCodec from '../codec/payloadCodec';
import { decodeJson, MAX_RECORD_BYTES, MAX_REJECTED_DATA_CHARS } from '../codec/payloadCodec';
import { deaggregate, isKplAggregate } from '../codec/kplAggregate';
import * as sequences from '../sequence';
import { MAX_CHANGE_JSON_BYTES } from '../tableChange';
import {
  REJECT_REASONS,
  type EpochMillis,
  type PipelineSpec,
  type RawRecord,
  type RejectReason,
} from '../types';
import * as batchObjects from './batchObjects';
import * as batchOutput from './batchOutput';
import { encodeForRejection, errorMessage, type BatchOutput, type RecordContext } from './batchOutput';
import * as definition from './definition';
import type { PipelineDefinition, SchemaResult } from './definition';
import * as schemaFastPath from './schemaFastPath';
import type { SchemaFastPath } from './schemaFastPath';
import type { PositionedValue, PreparedBatch, PrepareOptions } from './types';

// Hot-path functions bound once: under CommonJS interop (tsx, jest, esbuild's cjs output) each use of a
// named import is a getter call on the other module's exports, ~3% of the engine bench profile.
const { decodeRecordData, PayloadFailure, UndecodedPayload } = payloadCodec;
const { normalizeSequence } = sequences;
const { newContext, newOutput, noteShard } = batchOutput;
const { BatchCleanedRecord } = batchObjects;
const { keyProblem, MIN_EVENT_TIME } = definition;
const { compileSchemaFastPath, NOT_ACCEPTED } = schemaFastPath;

/** Rejection detail when a schema answers with a promise (an async refinement or transform). */
const ASYNC_SCHEMA =
  '(root): the clean schema validated asynchronously; shardflow needs a synchronous schema (no async refinements or transforms)';

export abstract class RecordCleaner {
  public readonly spec: PipelineSpec;
  protected readonly def: PipelineDefinition;
  /** The schema's `validate`, bound once (it is called per record). */
  private readonly validate: (value: unknown) => SchemaResult | PromiseLike<SchemaResult>;
  /** The schema compiled for values it accepts (`schemaFastPath.ts`); everything else goes to `validate`. */
  private readonly fastParse: SchemaFastPath | undefined;
  private readonly maxAhead: number;
  /**
   * Largest payload, in the source's unit: Kinesis' record limit, or for a table source the largest change
   * DynamoDB's items make (the edge judged each against its stream record's size already).
   */
  private readonly maxPayloadBytes: number;

  protected constructor(def: PipelineDefinition) {
    this.def = def;
    const standard = def.schema['~standard'];
    this.validate = (value) => standard.validate(value);
    this.fastParse = compileSchemaFastPath(def.schema);
    this.spec = def.spec;
    this.maxAhead = def.spec.time.maxEventTimeAheadMs;
    this.maxPayloadBytes = def.spec.source.table !== undefined ? MAX_CHANGE_JSON_BYTES : MAX_RECORD_BYTES;
  }

  public prepare(records: readonly RawRecord[], options: PrepareOptions): PreparedBatch {
    const out = newOutput(options, this.def.operators.length);
    const ctx = newContext();
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      ctx.shardId = r.shardId;
      ctx.sequenceNumber = r.sequenceNumber;
      ctx.sequence = normalizeSequence(r.sequenceNumber);
      ctx.subSequenceNumber = r.subSequenceNumber;
      ctx.partitionKey = r.partitionKey;
      ctx.data = r.data;
      noteShard(out, ctx.shardId, ctx.sequence);
      if (r.rejection !== undefined) {
        this.reject(out, ctx, r.rejection.reason, r.rejection.detail);
        continue;
      }
      const value = decodeRecordData(r.data, this.maxPayloadBytes);
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
    const out = newOutput(options, this.def.operators.length);
    const ctx = newContext();
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      ctx.shardId = v.shardId;
      ctx.sequenceNumber = v.sequenceNumber;
      ctx.sequence = normalizeSequence(v.sequenceNumber);
      ctx.subSequenceNumber = undefined;
      ctx.partitionKey = '';
      ctx.data = '';
      noteShard(out, ctx.shardId, ctx.sequence);
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

  protected reject(out: BatchOutput, ctx: RecordContext, reason: RejectReason, detail: string): void {
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
  protected processDecoded(
    out: BatchOutput,
    ctx: RecordContext,
    decoded: unknown,
    arrival: EpochMillis,
  ): void {
    if (decoded instanceof PayloadFailure) this.reject(out, ctx, decoded.reason, decoded.detail);
    else this.processValue(out, ctx, decoded, arrival);
  }

  /** Clean → event time → dedupe id → operator chain → key → aggregate inputs → windows, for one value. */
  protected processValue(out: BatchOutput, ctx: RecordContext, raw: unknown, arrival: EpochMillis): void {
    const def = this.def;
    let value = NOT_ACCEPTED as unknown;
    if (this.fastParse !== undefined) {
      try {
        value = this.fastParse(raw);
      } catch {
        // A getter of a value handed to prepareValues threw: the schema itself answers below.
      }
    }
    if (value === NOT_ACCEPTED) value = this.validated(out, ctx, raw);
    if (value === NOT_ACCEPTED) return;
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
    const publishedMark = out.published.length;
    if (def.operators.length === 0) this.route(out, ctx, value);
    else this.runOperators(out, ctx, value, 0);
    if (ctx.failed) {
      // A failure anywhere in a record's fan-out rejects the whole record: undo what it already routed.
      out.elements.length = elementMark;
      out.late.length = lateMark;
      out.published.length = publishedMark;
      return;
    }
    // What the record tells the watermark: its event time, but never more than its arrival time, so a
    // producer clock running ahead (within maxEventTimeAhead) cannot close windows before real time does.
    const shard = out.lastShard!;
    const watermarkTime = eventTime < arrival ? eventTime : arrival;
    if (shard.maxEventTime === null || watermarkTime > shard.maxEventTime) shard.maxEventTime = watermarkTime;
    const cleaned = new BatchCleanedRecord(
      ctx.shardId,
      ctx.sequenceNumber,
      ctx.partitionKey,
      eventTime,
      value,
    );
    out.cleaned.push(
      ctx.subSequenceNumber === undefined
        ? cleaned
        : { ...cleaned, subSequenceNumber: ctx.subSequenceNumber },
    );
  }

  /** The schema's own answer (zod's parse and messages): the value, or NOT_ACCEPTED after rejecting it. */
  private validated(out: BatchOutput, ctx: RecordContext, raw: unknown): unknown {
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
      return NOT_ACCEPTED;
    }
    if ('then' in parsed) {
      this.reject(out, ctx, REJECT_REASONS.SCHEMA_VIOLATION, ASYNC_SCHEMA);
      return NOT_ACCEPTED;
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
      return NOT_ACCEPTED;
    }
    return parsed.value;
  }

  protected fail(out: BatchOutput, ctx: RecordContext, reason: RejectReason, detail: string): void {
    if (ctx.failed) return;
    ctx.failed = true;
    this.reject(out, ctx, reason, detail);
  }

  /** Runs the operators from `from` on `value` (stage 2, `OperatorChain`). */
  protected abstract runOperators(out: BatchOutput, ctx: RecordContext, value: unknown, from: number): void;

  /** Key, aggregate inputs and windows of a value at the end of the chain (stage 3, `ElementRouter`). */
  protected abstract route(out: BatchOutput, ctx: RecordContext, value: unknown): void;

  /** The batch's outputs with its (key, window) groups (stage 4, `WindowCombiner`). */
  protected abstract finish(out: BatchOutput): PreparedBatch;
}
