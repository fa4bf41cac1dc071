import type { EpochMillis, WindowBounds } from '../types';
import { tumblingWindowStart } from './tumblingWindow';

/**
 * Every sliding (hopping) window of length `sizeMs`, starting every `slideMs`, that contains `eventTime`:
 * `ceil(size / slide)` windows when slide divides size, oldest first. Windows are aligned to the epoch.
 *
 * @example slidingWindows(70_000, 60_000, 30_000) // [{start: 30000, end: 90000}, {start: 60000, end: 120000}]
 */
export function slidingWindows(eventTime: EpochMillis, sizeMs: number, slideMs: number): WindowBounds[] {
  const out: WindowBounds[] = [];
  const lastStart = tumblingWindowStart(eventTime, slideMs);
  // The first window containing t starts after t - size; walk back from the last start by slide.
  let start = lastStart;
  while (start - slideMs > eventTime - sizeMs) start -= slideMs;
  for (; start <= lastStart; start += slideMs) out.push({ start, end: start + sizeMs });
  return out;
}
