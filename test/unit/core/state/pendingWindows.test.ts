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
    const shard = (frozen: number, closedEnd: number) => ({ frozen, closedEnd });
    expect(lateMark(shard(3 * MINUTE, -Infinity), item, 10 * MINUTE)).toBe(12 * MINUTE);
    expect(lateMark(shard(3 * MINUTE, 3 * MINUTE), item, 0)).toBe(3 * MINUTE);
    expect(lateMark(shard(-Infinity, -Infinity), undefined, 0)).toBe(-Infinity);
  });

  test('when a shorter lateness closed windows through an end (closedEnd), a longer one keeps them closed: the late mark is raised past that end', () => {
    // Frozen at 3 min under 0 s: windows ending at or before 3 min are closed; under 10 minutes they close at 13 min.
    expect(lateMark({ frozen: 3 * MINUTE, closedEnd: 3 * MINUTE }, undefined, 10 * MINUTE)).toBe(13 * MINUTE);
    // A shorter lateness than the one that promised: the shard's own mark is higher.
    expect(lateMark({ frozen: 13 * MINUTE, closedEnd: 3 * MINUTE }, undefined, 0)).toBe(13 * MINUTE);
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
