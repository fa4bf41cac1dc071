import type { EpochMillis, Fence, Json, WindowBounds } from '../types';

/**
 * The session window a single record opens: `[eventTime, eventTime + gap)`. Two sessions of the same key
 * merge when they overlap or touch (a record at `t` extends a session ending at or after `t`).
 */
export function sessionWindow(eventTime: EpochMillis, gapMs: number): WindowBounds {
  return { start: eventTime, end: eventTime + gapMs };
}

/** True when two session windows must be merged: they overlap or touch (`[a, b)` and `[b, c)` merge). */
export function sessionsOverlap(a: WindowBounds, b: WindowBounds): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** A session's aggregated contents, stored or partial. */
export interface SessionContents {
  readonly window: WindowBounds;
  readonly state: Readonly<Record<string, Json>>;
  readonly records: number;
  /** Max applied sequence per shard (a stored item's `fence`, or a partial's `maxSequence`). */
  readonly fence: Fence;
  /** Dedupe ids applied to this session, when the pipeline dedupes. */
  readonly dedupeIds?: readonly string[];
}

/** Result of {@link mergeSessions}. */
export interface MergedSession extends SessionContents {
  /** The stored sessions that were absorbed and must be deleted (all of them overlap the result). */
  readonly absorbed: readonly WindowBounds[];
}

/**
 * Merges a new session partial with the stored sessions of the same key that it overlaps or touches,
 * transitively (a record that bridges two stored sessions merges all three). Stored sessions that do not
 * overlap the growing union are left alone. Pure: the caller writes the result and deletes `absorbed`.
 *
 * @param mergeState - the pipeline's `mergeState`, e.g. `p.mergeState`.
 */
export function mergeSessions(
  partial: SessionContents,
  stored: readonly SessionContents[],
  mergeState: (a: Record<string, Json>, b: Record<string, Json>) => Record<string, Json>,
): MergedSession {
  const remaining = [...stored].sort((x, y) => x.window.start - y.window.start);
  let window = partial.window;
  let state: Record<string, Json> = { ...partial.state };
  let records = partial.records;
  const fence: Record<string, string> = { ...partial.fence };
  const ids = new Set(partial.dedupeIds ?? []);
  const absorbed: WindowBounds[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < remaining.length; i++) {
      const s = remaining[i]!;
      if (!sessionsOverlap(window, s.window)) continue;
      window = { start: Math.min(window.start, s.window.start), end: Math.max(window.end, s.window.end) };
      state = mergeState(state, { ...s.state });
      records += s.records;
      for (const [shard, seq] of Object.entries(s.fence)) {
        const cur = fence[shard];
        if (cur === undefined || seq > cur) fence[shard] = seq;
      }
      for (const id of s.dedupeIds ?? []) ids.add(id);
      absorbed.push(s.window);
      remaining.splice(i, 1);
      i--;
      changed = true;
    }
  }
  const base = { window, state, records, fence, absorbed };
  return partial.dedupeIds === undefined && ids.size === 0 ? base : { ...base, dedupeIds: [...ids] };
}
