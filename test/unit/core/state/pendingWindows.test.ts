import {
  dueWindows,
  emittedEndOf,
  fixedWindowRule,
  lateMark,
  prunePending,
} from '../../../../functions/core/state/pendingWindows';
import type { PipelineProgress, ShardProgress } from '../../../../functions/core/state/types';

const MINUTE = 60_000;
const pipeline = (marks: Partial<PipelineProgress>): PipelineProgress => ({
  pipeline: 'p',
  closedWatermark: -Infinity,
  emittedThrough: -Infinity,
  ...marks,
});

describe('the emitted rule (emittedEndOf) and the late mark', () => {
  test('when the pipeline item keeps emittedEnd, it says which windows are emitted whatever the running lateness', () => {
    const item = pipeline({ emittedThrough: 2 * MINUTE, emittedEnd: 2 * MINUTE });
    expect(emittedEndOf(item, 0)).toBe(2 * MINUTE);
    expect(emittedEndOf(item, 10 * MINUTE)).toBe(2 * MINUTE);
  });

  test('when the pipeline item was written before emittedEnd was kept, emittedThrough under the running lateness says it', () => {
    expect(emittedEndOf(pipeline({ emittedThrough: 12 * MINUTE }), 10 * MINUTE)).toBe(2 * MINUTE);
    expect(emittedEndOf(undefined, 10 * MINUTE)).toBe(-Infinity);
    expect(emittedEndOf(pipeline({}), 10 * MINUTE)).toBe(-Infinity);
  });

  test('when the lateness grew since windows were emitted, the late mark is raised past them; otherwise it is the shard’s mark', () => {
    const item = pipeline({ emittedThrough: 2 * MINUTE, emittedEnd: 2 * MINUTE });
    // Under 10 minutes a window ending at 2 min closes at 12 min: a record for it is late at that mark.
    expect(lateMark(3 * MINUTE, item, 10 * MINUTE)).toBe(12 * MINUTE);
    expect(lateMark(3 * MINUTE, item, 0)).toBe(3 * MINUTE);
    expect(lateMark(-Infinity, undefined, 0)).toBe(-Infinity);
  });

  test('when a window ends at or below emittedEnd, it is dropped from pending lists and never due, even if its close time under the running lateness is later', () => {
    const item = pipeline({ emittedThrough: 2 * MINUTE, emittedEnd: 2 * MINUTE });
    const rule = fixedWindowRule(10 * MINUTE);
    const pending = [
      { start: MINUTE, end: 2 * MINUTE, firstCommit: 1, lastCommit: 1 },
      { start: 2 * MINUTE, end: 3 * MINUTE, firstCommit: 1, lastCommit: 2 },
    ];
    expect(prunePending(pending, rule.bound(item), rule.valueOf)).toEqual([pending[1]]);
    const shard = { shardId: 's', pending } as unknown as ShardProgress;
    const due = dueWindows(
      [shard],
      emittedEndOf(item, 10 * MINUTE),
      Infinity,
      (w) => w.end + 10 * MINUTE,
      10,
    );
    expect(due.map((d) => [d.window.end, d.closeAt])).toEqual([[3 * MINUTE, 13 * MINUTE]]);
  });
});
