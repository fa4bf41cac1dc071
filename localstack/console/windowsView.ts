/**
 * Windows and watermarks as the console shows them (pure): the pipeline watermark from the shards' stored
 * progress (the rule the tick applies), which pending windows are open or closing, and when the next close.
 */
import type { PipelineTopology } from '../../functions/core/engine/pipelineTopology';
import { pipelineWatermark } from '../../functions/core/watermark/pipelineWatermark';
import { closeTime, isWindowClosed } from '../../functions/core/windows/windowSpecs';
import type { PipelineStatus } from '../start/pipelineStatus';

/**
 * Watermarks at or beyond this are not instants: the end of bounded input stores the largest safe integer,
 * past what a Date can hold (`shardflow status` prints it as +∞).
 */
export const END_OF_INPUT = 8.64e15;

/** A watermark that is an instant, or null (none yet, -∞, or the end of input). */
export function instant(watermark: number | null): number | null {
  return watermark === null || !Number.isFinite(watermark) || Math.abs(watermark) >= END_OF_INPUT
    ? null
    : watermark;
}

/** Wall clock `at` minus a watermark that is an instant, else null. */
export function lagBehind(at: number, watermark: number | null): number | null {
  const w = instant(watermark);
  return w === null ? null : at - w;
}

/** A window not emitted yet, by when it closes. */
export interface DueWindow {
  readonly start: number;
  readonly end: number;
  /** Event time the pipeline watermark must reach: `end + allowedLateness`. */
  readonly closesAt: number;
  /** `closing`: the watermark has passed its close time; the next tick emits it. */
  readonly state: 'open' | 'closing';
  /** Event time still to pass before it closes; 0 when closing, null without a watermark. */
  readonly dueInMs: number | null;
}

export interface WindowsView {
  readonly open: number;
  readonly closing: number;
  readonly emitted: number;
  /** The next windows to close, soonest first. */
  readonly nextDue: readonly DueWindow[];
  /** Why `nextDue` is empty when it cannot be derived. */
  readonly note: string | null;
}

/** The pipeline watermark at `at` from the shards' stored progress (the rule the tick applies). */
export function watermarkAt(status: PipelineStatus, topology: PipelineTopology, at: number): number | null {
  const known = status.shards.flatMap((s) =>
    s.lastActivity === null
      ? []
      : [{ watermark: s.watermark, lastActivity: s.lastActivity, closed: s.closed }],
  );
  if (known.length === 0) return null;
  const watermark = pipelineWatermark(known, at, topology.time.idleTimeoutMs);
  return Number.isFinite(watermark) || watermark === Infinity ? watermark : null;
}

/** Open and closing windows, and the next due, from the pending windows and the watermark. */
export function windowsView(
  status: PipelineStatus,
  topology: PipelineTopology,
  watermark: number | null,
  emitted: number,
  limit = 5,
): WindowsView {
  const lateness = topology.time.allowedLatenessMs;
  // A close pass that has started raised the stored close watermark: its windows are closing too.
  const closedBy = Math.max(watermark ?? -Infinity, status.closedWatermark ?? -Infinity);
  const due = status.pendingWindows.map((w): DueWindow => {
    const closing = isWindowClosed(w, lateness, closedBy);
    const closesAt = closeTime(w, lateness);
    const now = instant(watermark);
    return {
      start: w.start,
      end: w.end,
      closesAt,
      state: closing ? 'closing' : 'open',
      dueInMs: closing ? 0 : now === null ? null : closesAt - now,
    };
  });
  const closing = due.filter((d) => d.state === 'closing').length;
  const session = topology.window?.kind === 'session';
  return {
    open: due.length - closing,
    closing,
    emitted,
    nextDue: session ? [] : [...due].sort((a, b) => a.closesAt - b.closesAt).slice(0, limit),
    note: session ? 'session windows close per key, each at its own time' : null,
  };
}
