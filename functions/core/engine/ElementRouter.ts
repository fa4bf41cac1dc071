/**
 * Stage 3: a value at the end of the chain gets its key, its aggregate inputs and its windows; a window
 * already closed for the shard (the close rule of `windows/windowSpecs.ts`) makes it a late record.
 */
import type { AnyColumnAggregate } from '../aggregates/columnAggregate';
import { describe } from '../aggregates/columnAggregate';
import { InvalidOptionError } from '../errors';
import { REJECT_REASONS, type EpochMillis, type WindowBounds, type WindowSpec } from '../types';
import { slidingWindows } from '../windows/slidingWindow';
import * as tumblingWindow from '../windows/tumblingWindow';
import * as windowSpecs from '../windows/windowSpecs';
import * as batchObjects from './batchObjects';
import { compileInputReader, type InputFailure, type InputReader } from './aggregateInputs';
import { errorMessage, type BatchOutput, type RecordContext } from './batchOutput';
import * as definition from './definition';
import type { PipelineDefinition } from './definition';
import { OperatorChain } from './OperatorChain';
import * as elementIds from './elementId';
import * as streamTap from './streamTap';

const { tumblingWindowStart } = tumblingWindow;
const { closeTime, isWindowClosed } = windowSpecs;
const { keyProblem, MAX_KEY_BYTES } = definition;
const { partitionKeyProblem, publishedId, publishEntry } = streamTap;
const { elementId } = elementIds;
const { BatchRoutedElement } = batchObjects;

export abstract class ElementRouter extends OperatorChain {
  protected readonly aggs: readonly AnyColumnAggregate<unknown>[];
  /** Every aggregate's input of a value, validated (`aggregateInputs.ts`). */
  private readonly readInputs: InputReader;
  private readonly inputFailure: InputFailure = { error: undefined, problem: undefined };
  protected readonly columns: readonly string[];
  private readonly lateness: number;
  private lastWindows: WindowBounds[] | undefined;

  protected constructor(def: PipelineDefinition) {
    super(def);
    this.aggs = def.aggregates.map((a) => a.aggregate);
    this.readInputs = compileInputReader(this.aggs);
    this.columns = def.aggregates.map((a) => a.column);
    this.lateness = def.spec.time.allowedLatenessMs;
  }

  /** When `window` may close: the pipeline watermark at which it closes (`windows/windowSpecs.ts`). */
  public closeTime(window: WindowBounds): EpochMillis {
    return closeTime(window, this.lateness);
  }

  /** Whether `window` is closed at `watermark` (`windows/windowSpecs.ts`). */
  public isClosed(window: WindowBounds, watermark: EpochMillis): boolean {
    return isWindowClosed(window, this.lateness, watermark);
  }

  /** The windows a record at `eventTime` belongs to (sessions: the record's own `[t, t + gap)`). */
  public windowsFor(eventTime: EpochMillis): WindowBounds[] {
    const w = this.windowSpec();
    if (w.kind === 'tumbling') {
      const start = tumblingWindowStart(eventTime, w.sizeMs);
      return [{ start, end: start + w.sizeMs }];
    }
    if (w.kind === 'sliding') return slidingWindows(eventTime, w.sizeMs, w.slideMs);
    return [{ start: eventTime, end: eventTime + w.gapMs }];
  }

  /**
   * `windowsFor`, reusing the previous array when a tumbling window repeats (records of a batch mostly
   * share a window; the arrays are never mutated, so sharing them is safe). Tumbling windows do not overlap,
   * so the previous window is the record's exactly when it contains the event time: two comparisons instead
   * of a floating-point remainder per record.
   */
  private windowsCached(eventTime: EpochMillis): WindowBounds[] {
    const w = this.windowSpec();
    if (w.kind !== 'tumbling') return this.windowsFor(eventTime);
    const last = this.lastWindows;
    if (last !== undefined && eventTime >= last[0]!.start && eventTime < last[0]!.end) return last;
    const start = tumblingWindowStart(eventTime, w.sizeMs);
    this.lastWindows = [{ start, end: start + w.sizeMs }];
    return this.lastWindows;
  }

  /** The windows; a publish-only pipeline has none, and routes no value to one. */
  protected windowSpec(): WindowSpec {
    const w = this.spec.window;
    if (w === undefined)
      throw new InvalidOptionError(`Pipeline ${this.spec.name} only publishes: it has no windows`);
    return w;
  }

  /** Key, aggregate inputs and windows of one value at the end of the chain (a publish-only pipeline: none). */
  protected route(out: BatchOutput, ctx: RecordContext, value: unknown): void {
    if (this.def.publish !== undefined && !this.publish(out, ctx, value)) return;
    const keyBy = this.def.keyBy;
    if (keyBy === undefined) {
      // The next value of the record's fan-out is published under the next ordinal (`publishedId`).
      ctx.ordinal++;
      return;
    }
    let key: unknown;
    try {
      key = keyBy(value);
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
    const columns = this.columns;
    const inputs = new Array<unknown>(columns.length);
    const failed = this.readInputs(value, inputs, this.inputFailure);
    if (failed !== -1) {
      if (failed >= columns.length) {
        const err = this.inputFailure.error;
        this.fail(
          out,
          ctx,
          REJECT_REASONS.OPERATOR_THREW,
          `aggregate ${columns[failed - columns.length]!} threw: ${errorMessage(err)}`,
        );
      } else {
        this.fail(
          out,
          ctx,
          REJECT_REASONS.OPERATOR_RETURNED_INVALID,
          `aggregate ${columns[failed]!}: ${this.inputFailure.problem!}`,
        );
      }
      this.inputFailure.error = undefined;
      return;
    }
    const ordinal = ctx.ordinal++;
    const dedupeId = ctx.dedupeId === undefined ? undefined : elementId(ctx.dedupeId, ordinal);
    const all = this.windowsCached(ctx.eventTime);
    let open: WindowBounds[] = all;
    for (let i = 0; i < all.length; i++) {
      const w = all[i]!;
      if (isWindowClosed(w, this.lateness, out.closedWatermark)) {
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
    out.elements.push(
      new BatchRoutedElement(ctx.shardId, ctx.sequence, ctx.eventTime, validKey, inputs, dedupeId, open),
    );
  }

  /**
   * The record `.toStream()` publishes for `value` (`streamTap.ts`); a value that cannot be published rejects
   * its record, so what a commit applied is exactly what it publishes.
   *
   * @returns false when the record failed.
   */
  private publish(out: BatchOutput, ctx: RecordContext, value: unknown): boolean {
    let key: unknown;
    try {
      key = this.def.publish!.partitionKey(value);
    } catch (err) {
      this.fail(out, ctx, REJECT_REASONS.OPERATOR_THREW, `toStream partitionKey threw: ${errorMessage(err)}`);
      return false;
    }
    const keyIssue = partitionKeyProblem(key);
    if (keyIssue !== undefined) {
      this.fail(
        out,
        ctx,
        REJECT_REASONS.INVALID_KEY,
        `toStream partitionKey returned ${describe(key)}, which ${keyIssue}`,
      );
      return false;
    }
    const entry = publishEntry(publishedId(ctx), ctx.eventTime, value, key as string);
    if ('problem' in entry) {
      const reason = entry.oversize
        ? REJECT_REASONS.OVERSIZE_RECORD
        : REJECT_REASONS.OPERATOR_RETURNED_INVALID;
      this.fail(out, ctx, reason, `toStream: the value ${entry.problem}`);
      return false;
    }
    out.published.push(entry);
    return true;
  }
}
