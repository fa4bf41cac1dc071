/**
 * Drain (`shardflow deploy --drain`): before an incompatible change switches definitions, the deployed
 * (old) definition closes and emits every window still open, as if the watermark had passed them.
 *
 * How, and why this way: the drain is the normal tick with its watermark raised to the *drain watermark*
 * — the latest close time of any open window (`drainWatermark`) — so every open window goes through the
 * ordinary close pass (one object per (table, window), written once; a retried drain writes the same
 * bytes), and nothing has to be reset afterwards. The close marks stay at the drain watermark, which is
 * the one rule the new definition then follows: its windows that close after it open and close as
 * usual; a record arriving after the switch for a window that closes at or before it (under the new
 * definition's own close rule) is late, exactly as after any watermark advance. The alternative of
 * resetting the marks and giving result names a generation part was rejected: it makes two objects for
 * one (table, window), which every reader of the results table would have to reconcile.
 *
 * `atLeast` raises the drain watermark further: the deploying CLI passes the latest close time the NEW
 * definition gives the open windows' bounds, so the close marks stay past them under it too. (A drained
 * window is not opened again by a longer allowed lateness in any case: the drain raises `emittedEnd` with
 * `emittedThrough`, and a window ending at or below it is emitted whatever the lateness: `emittedEndOf`.)
 */
import type { EpochMillis } from '../types';
import { InvalidDrainRequestError } from './errors';
import { emittedEndOf } from './pendingWindows';
import type { ProgressSnapshot, StatefulPipeline } from './types';

/**
 * The watermark that closes every window open in `snapshot` under `pipeline`; undefined when none is open
 * (and no `atLeast` asks for more). Fixed windows: the latest close time of a pending window not emitted
 * yet. Sessions: an open session ends at most `gap` after the latest event time a shard holding pending
 * sessions has seen, and closes `gap` plus the allowed lateness after its end (`SessionCloser.ts`). Always
 * undefined for a publish-only pipeline.
 */
export function drainWatermark(
  snapshot: ProgressSnapshot,
  pipeline: Pick<StatefulPipeline, 'spec' | 'closeTime'>,
  atLeast?: EpochMillis,
): EpochMillis | undefined {
  const window = pipeline.spec.window;
  // A publish-only pipeline has no windows: nothing to drain.
  if (window === undefined) return undefined;
  let through: EpochMillis | undefined = atLeast;
  const raise = (value: EpochMillis): void => {
    if (through === undefined || value > through) through = value;
  };
  if (window.kind === 'session') {
    const floor = snapshot.pipeline?.sessionFloor ?? -Infinity;
    for (const shard of snapshot.shards) {
      if (shard.maxEventTime === null || !shard.pending.some((bucket) => bucket.end > floor)) continue;
      raise(pipeline.closeTime({ start: shard.maxEventTime, end: shard.maxEventTime + 2 * window.gapMs }));
    }
  } else {
    const emitted = emittedEndOf(snapshot.pipeline, pipeline.spec.time.allowedLatenessMs);
    for (const shard of snapshot.shards)
      for (const pending of shard.pending) if (pending.end > emitted) raise(pipeline.closeTime(pending));
  }
  return through;
}

/** What a drain did. */
export interface DrainResult {
  /** The watermark the windows were closed at (null: nothing was open). */
  readonly drainedThrough: EpochMillis | null;
  readonly windowsEmitted: number;
}

/** Reads a drain request's `atLeast` (hostile input): an epoch-millisecond safe integer, or absent. */
export function isDrainBound(value: unknown): value is EpochMillis {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The `action` of the one event that asks the tick function to drain (a direct, authorized invoke). */
export const DRAIN_ACTION = 'shardflow:drain';

/** A drain request: `{ "action": "shardflow:drain", "atLeast"?: <epoch ms> }`, nothing else. */
export interface DrainRequest {
  readonly action: typeof DRAIN_ACTION;
  readonly atLeast?: EpochMillis;
}

/**
 * The drain request `event` is (hostile input), or undefined when it does not ask for one (a scheduled
 * event, anything else: the tick runs as scheduled).
 *
 * @throws InvalidDrainRequestError when it names the drain action with anything but an optional `atLeast`.
 */
export function drainRequestOf(event: unknown): DrainRequest | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return undefined;
  const fields = event as Record<string, unknown>;
  if (!Object.hasOwn(fields, 'action') || fields.action !== DRAIN_ACTION) return undefined;
  const extra = Object.keys(fields).filter((key) => key !== 'action' && key !== 'atLeast');
  if (extra.length > 0)
    throw new InvalidDrainRequestError(
      `A drain request takes only action and atLeast (given ${extra.slice(0, 3).join(', ').slice(0, 200)})`,
    );
  if (!Object.hasOwn(fields, 'atLeast') || fields.atLeast === undefined) return { action: DRAIN_ACTION };
  if (!isDrainBound(fields.atLeast))
    throw new InvalidDrainRequestError(
      'A drain request’s atLeast must be a non-negative safe integer of epoch milliseconds',
    );
  return { action: DRAIN_ACTION, atLeast: fields.atLeast };
}
