import type { EpochMillis, WindowBounds } from '../types';

/**
 * The tumbling window `[start, start + size)` that contains `eventTime`; windows are aligned to the epoch.
 *
 * @example tumblingWindowStart(90_000, 60_000) // 60_000
 */
export function tumblingWindowStart(eventTime: EpochMillis, sizeMs: number): EpochMillis {
  // eventTime - (eventTime mod size), with a non-negative modulo for times before the epoch.
  const rem = eventTime % sizeMs;
  return eventTime - (rem < 0 ? rem + sizeMs : rem);
}

/** The tumbling window containing `eventTime`. */
export function tumblingWindow(eventTime: EpochMillis, sizeMs: number): WindowBounds {
  const start = tumblingWindowStart(eventTime, sizeMs);
  return { start, end: start + sizeMs };
}
