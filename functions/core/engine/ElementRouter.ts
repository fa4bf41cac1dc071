/**
 * Stage 3: a value at the end of the chain gets its key, its aggregate inputs and its windows; a window
 * already closed for the shard (the close rule of `windows/windowSpecs.ts`) makes it a late record.
 */
import type { AnyColumnAggregate } from '../aggregates/columnAggregate';
import { describe } from '../aggregates/columnAggregate';
import { REJECT_REASONS, type EpochMillis, type WindowBounds } from '../types';
import { slidingWindows } from '../windows/slidingWindow';
import * as tumblingWindow from '../windows/tumblingWindow';
import * as windowSpecs from '../windows/windowSpecs';
import { errorMessage, type BatchOutput, type RecordContext } from './batchOutput';
import { keyProblem, MAX_KEY_BYTES, type PipelineDefinition } from './definition';
import { OperatorChain } from './OperatorChain';

const { tumblingWindowStart } = tumblingWindow;
const { closeTime, isWindowClosed } = windowSpecs;

export abstract class ElementRouter extends OperatorChain {
  protected readonly aggs: readonly AnyColumnAggregate<unknown>[];
  /** The aggregates' `input` and `validate` functions, by column: read from arrays in the per-record loop. */
  private readonly inputFns: readonly ((value: unknown) => unknown)[];
  private readonly validateFns: readonly ((input: unknown) => string | undefined)[];
  protected readonly columns: readonly string[];
  private readonly lateness: number;
  private lastWindows: WindowBounds[] | undefined;

  protected constructor(def: PipelineDefinition) {
    super(def);
    this.aggs = def.aggregates.map((a) => a.aggregate);
    this.inputFns = this.aggs.map((a) => a.input.bind(a));
    this.validateFns = this.aggs.map((a) => a.validate.bind(a));
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

  /** Key, aggregate inputs and windows of one value at the end of the chain. */
  protected route(out: BatchOutput, ctx: RecordContext, value: unknown): void {
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
}
