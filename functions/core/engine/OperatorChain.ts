/**
 * Stage 2: the user's operators (map, filter, flatMap), fused in one call per record. A flatMap's elements go
 * on through the rest of the chain one by one; a failure anywhere rejects the whole record.
 */
import { describe } from '../aggregates/columnAggregate';
import { REJECT_REASONS } from '../types';
import { errorMessage, type BatchOutput, type RecordContext } from './batchOutput';
import { OPERATOR_KIND } from './definition';
import { RecordCleaner } from './RecordCleaner';

export abstract class OperatorChain extends RecordCleaner {
  protected runOperators(out: BatchOutput, ctx: RecordContext, value: unknown, from: number): void {
    const ops = this.def.operators;
    const counts = out.operators;
    let v = value;
    for (let i = from; i < ops.length; i++) {
      const op = ops[i]!;
      counts[2 * i]!++;
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
        counts[2 * i + 1]!++;
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
        counts[2 * i + 1]!++;
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
  protected runElement(
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
    // A flatMap element counts as one value the flatMap passed on.
    out.operators[2 * (next - 1) + 1]!++;
    this.runOperators(out, ctx, item, next);
    return true;
  }
}
