/**
 * Grouping of a batch's routed elements by (key, window), computed once in `prepare` and reused by
 * `combine`: fixed windows by exact bounds, sessions merged within the batch per key.
 */
import type { WindowBounds } from '../types';
import type { RoutedElement } from './types';

/** The windows of one key seen so far by {@link fixedGroups}, with the last one looked up. */
interface KeyGroups {
  lastStart: number;
  lastGroup: number;
  readonly byStart: Map<number, number>;
}

/** What {@link fixedGroups} computed for a batch's elements array, so `combine` does not compute it again. */
export interface FixedGroups {
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
export function sessionGroups(elements: readonly RoutedElement[]): { key: string; window: WindowBounds }[] {
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

/** The groups of `elements`, remembered for `combine` while that very array lives. */
export function indexFixedGroups(elements: readonly RoutedElement[]): FixedGroups {
  const fixed = fixedGroups(elements);
  GROUP_INDEX.set(elements, fixed);
  return fixed;
}

/** The groups `prepare` computed for `elements`, or computed again (a caller may pass another array). */
export function fixedGroupsOf(elements: readonly RoutedElement[]): FixedGroups {
  return GROUP_INDEX.get(elements) ?? fixedGroups(elements);
}
