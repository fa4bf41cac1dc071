import { parseDuration, type Duration } from '../duration';
import { PipelineDefinitionError } from '../errors';
import type { EpochMillis, WindowBounds, WindowSpec } from '../types';
import { slidingWindows } from './slidingWindow';
import { tumblingWindowStart } from './tumblingWindow';

/**
 * Tumbling (fixed, non-overlapping) windows of `size`, aligned to the epoch.
 *
 * @example tumbling('1h')
 */
export function tumbling(size: Duration): WindowSpec {
  const sizeMs = parseDuration(size, 'tumbling window size');
  if (sizeMs <= 0)
    throw new PipelineDefinitionError(
      `tumbling window size must be positive (given ${JSON.stringify(size)})`,
    );
  return { kind: 'tumbling', sizeMs };
}

/**
 * Sliding (hopping) windows of `size` starting every `slide` (slide ≤ size), aligned to the epoch; a record
 * belongs to about size/slide windows.
 *
 * @example sliding('1h', '15m')
 */
export function sliding(size: Duration, slide: Duration): WindowSpec {
  const sizeMs = parseDuration(size, 'sliding window size');
  const slideMs = parseDuration(slide, 'sliding window slide');
  if (sizeMs <= 0)
    throw new PipelineDefinitionError(`sliding window size must be positive (given ${JSON.stringify(size)})`);
  if (slideMs <= 0)
    throw new PipelineDefinitionError(
      `sliding window slide must be positive (given ${JSON.stringify(slide)})`,
    );
  if (slideMs > sizeMs) {
    throw new PipelineDefinitionError(
      `sliding window slide must not exceed its size (given size ${sizeMs} ms, slide ${slideMs} ms)`,
    );
  }
  if (sizeMs / slideMs > 100) {
    throw new PipelineDefinitionError(
      `sliding window size/slide must be at most 100 windows per record (given ${sizeMs / slideMs})`,
    );
  }
  return { kind: 'sliding', sizeMs, slideMs };
}

/**
 * Session windows per key: a session ends after `gap` without records; a record that bridges two sessions
 * merges them.
 *
 * @example session('30m')
 */
export function session(gap: Duration): WindowSpec {
  const gapMs = parseDuration(gap, 'session gap');
  if (gapMs <= 0)
    throw new PipelineDefinitionError(`session gap must be positive (given ${JSON.stringify(gap)})`);
  return { kind: 'session', gapMs };
}

/**
 * The close rule, in one place: a window may close (and a record for it is late) once the pipeline
 * watermark is **greater than or equal to** `window.end + allowedLatenessMs`. With `≥`, a window
 * `[0, 60000)` with 30 s lateness closes at watermark 90000 exactly.
 */
export function closeTime(window: WindowBounds, allowedLatenessMs: number): EpochMillis {
  return window.end + allowedLatenessMs;
}

/** True when `window` is closed at `watermark` (see {@link closeTime}). */
export function isWindowClosed(
  window: WindowBounds,
  allowedLatenessMs: number,
  watermark: EpochMillis,
): boolean {
  return watermark >= window.end + allowedLatenessMs;
}

/**
 * The earliest start a window of `window` can have for records at or after `earliestEventTime`: the
 * results table's partition projection must reach back to its day, or Athena skips those objects
 * (epoch-aligned tumbling and sliding windows start before the record; a session starts at it).
 */
export function earliestWindowStart(
  window: WindowSpec | undefined,
  earliestEventTime: EpochMillis,
): EpochMillis {
  if (window === undefined || window.kind === 'session') return earliestEventTime;
  if (window.kind === 'tumbling') return tumblingWindowStart(earliestEventTime, window.sizeMs);
  return slidingWindows(earliestEventTime, window.sizeMs, window.slideMs)[0]!.start;
}
