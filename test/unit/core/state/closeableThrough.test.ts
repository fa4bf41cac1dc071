/**
 * The shards' close marks in window ends (`closedEnd`): what a commit under one allowed lateness promised
 * stays promised under another, and passes emit only what every shard has closed.
 */
import {
  closeableEnd,
  closedEndOf,
  raiseClosedMarks,
  raisedClosedEnd,
  startingMarks,
} from '../../../../functions/core/state/closeableThrough';
import { InMemoryStateStore } from '../../../../functions/core/state/InMemoryStateStore';
import type { PipelineMarks, ProgressSnapshot } from '../../../../functions/core/state/types';

const MINUTE = 60_000;
const shard = (frozen: number, closedEnd?: number, closed = false) => ({
  frozen,
  closed,
  ...(closedEnd === undefined ? {} : { closedEnd }),
});

describe('closedEnd', () => {
  test('when a shard stored its closedEnd, that is its mark under any lateness; an older item has frozen minus the running lateness', () => {
    expect(closedEndOf(shard(10 * MINUTE, 9 * MINUTE), 0)).toBe(9 * MINUTE);
    expect(closedEndOf(shard(10 * MINUTE, 9 * MINUTE), 5 * MINUTE)).toBe(9 * MINUTE);
    expect(closedEndOf(shard(10 * MINUTE), 3 * MINUTE)).toBe(7 * MINUTE);
    expect(closedEndOf(shard(-Infinity), 3 * MINUTE)).toBe(-Infinity);
  });

  test('when a longer lateness freezes a shard that a shorter one closed further, its closedEnd does not fall; a shorter one raises it', () => {
    // Closed through 10 min under 0 s; frozen at 12 min under 5 min would only close through 7 min.
    expect(raisedClosedEnd(shard(10 * MINUTE, 10 * MINUTE), 12 * MINUTE, 5 * MINUTE)).toBe(10 * MINUTE);
    expect(raisedClosedEnd(shard(10 * MINUTE, 5 * MINUTE), 12 * MINUTE, 0)).toBe(12 * MINUTE);
    expect(raisedClosedEnd(shard(10 * MINUTE), 16 * MINUTE, 5 * MINUTE)).toBe(11 * MINUTE);
  });

  test('when a shard commits for the first time, it starts from the pipeline closedEnd, at least its closed watermark under the running lateness', () => {
    const base = { pipeline: 'p', emittedThrough: -Infinity };
    expect(startingMarks({ ...base, closedWatermark: 10 * MINUTE, closedEnd: 9 * MINUTE }, MINUTE)).toEqual({
      frozen: 10 * MINUTE,
      closedEnd: 9 * MINUTE,
    });
    expect(startingMarks({ ...base, closedWatermark: 10 * MINUTE }, 2 * MINUTE)).toEqual({
      frozen: 10 * MINUTE,
      closedEnd: 8 * MINUTE,
    });
    expect(startingMarks(undefined, MINUTE)).toEqual({ frozen: -Infinity, closedEnd: -Infinity });
    // A pass of an older version raised closedWatermark alone: the stale closedEnd does not hold windows open.
    expect(startingMarks({ ...base, closedWatermark: 10 * MINUTE, closedEnd: 2 * MINUTE }, 0)).toEqual({
      frozen: 10 * MINUTE,
      closedEnd: 10 * MINUTE,
    });
  });

  test('when shards closed through different ends, windows may be emitted up to the lowest open one; fewer than provisioned: none; all closed: all', () => {
    const shards = [shard(10 * MINUTE, 10 * MINUTE), shard(9 * MINUTE), shard(0, 0, true)];
    // The second (an older item) under 30 s: 8.5 min.
    expect(closeableEnd(shards, MINUTE / 2)).toBe(8.5 * MINUTE);
    expect(closeableEnd(shards, 0)).toBe(9 * MINUTE);
    expect(closeableEnd(shards, 0, 3)).toBe(-Infinity);
    expect(closeableEnd([], 0)).toBe(-Infinity);
    expect(closeableEnd([shard(0, 0, true)], 0)).toBe(Infinity);
  });

  test('when a pass raises the pipeline marks before it reads, it raises each only above the stored one and says whether any rose', async () => {
    const store = new InMemoryStateStore();
    const raised: PipelineMarks[] = [];
    const spy = {
      raisePipeline: async (name: string, marks: PipelineMarks) => {
        raised.push(marks);
        return store.raisePipeline(name, marks);
      },
    };
    const snapshot = (pipeline: ProgressSnapshot['pipeline']): ProgressSnapshot =>
      ({
        shards: [
          { ...shard(10 * MINUTE, 9 * MINUTE), shardId: 'a' },
          { ...shard(12 * MINUTE), shardId: 'b' },
        ],
        pipeline,
      }) as unknown as ProgressSnapshot;
    expect(await raiseClosedMarks(spy, 'p', snapshot(undefined), MINUTE, 2)).toBe(true);
    expect(raised).toEqual([{ closedEnd: 9 * MINUTE, closedWatermark: 10 * MINUTE }]);
    const stored = (await store.readProgress('p')).pipeline;
    expect(await raiseClosedMarks(spy, 'p', snapshot(stored), MINUTE, 2)).toBe(false);
    // A pipeline item written before closedEnd was kept: only closedEnd is raised.
    expect(
      await raiseClosedMarks(
        spy,
        'p',
        snapshot({ pipeline: 'p', closedWatermark: 10 * MINUTE, emittedThrough: -Infinity }),
        MINUTE,
        2,
      ),
    ).toBe(true);
    expect(raised[1]).toEqual({ closedEnd: 9 * MINUTE });
    expect(await raiseClosedMarks(spy, 'p', snapshot(undefined), MINUTE, 3)).toBe(false);
  });
});
