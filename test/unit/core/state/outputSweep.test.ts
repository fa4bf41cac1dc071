import { StateItemInvalidError } from '../../../../functions/core/state/errors';
import {
  MAX_SWEEP_COMMITS,
  partitionsBetween,
  planSweep,
  planSweepAll,
} from '../../../../functions/core/state/outputSweep';
import { progressFromItem, progressToItem } from '../../../../functions/core/state/stateItems';
import type { ShardProgress } from '../../../../functions/core/state/types';
import { progress } from '../../../helpers/stateStoreContract';

const LAG = 120_000;
const NOW = Date.UTC(2026, 11, 6, 10, 30);
const ARRIVED = Date.UTC(2026, 11, 6, 10, 29);

const shard = (overrides: Partial<ShardProgress>): ShardProgress =>
  progress('p', { outputs: { firstSequence: '1', time: ARRIVED, judgedBy: -Infinity }, ...overrides });

describe('output sweep plan', () => {
  const at = (from: number, to = from) => ({ from, to });

  test("when a shard commits for the first time, its mark starts with nothing to sweep and that commit's arrival after it", () => {
    expect(planSweep(undefined, ARRIVED, NOW, LAG)).toEqual({
      next: { swept: 0, target: 0, targetAt: NOW, due: at(ARRIVED), next: at(ARRIVED) },
    });
  });

  test('when commits follow the mark, the next one sets them as the target, due a lag later and not before', () => {
    const base = shard({
      commits: 3,
      sweep: { swept: 0, target: 0, targetAt: NOW - 9, due: at(0), next: at(ARRIVED - 5, ARRIVED + 7) },
    });
    const targeted = planSweep(base, ARRIVED + 1, NOW, LAG);
    // Commits 1–3 (arrivals ARRIVED-5..ARRIVED+7) are the target; commit 4 starts the range after it.
    expect(targeted).toEqual({
      next: { swept: 0, target: 3, targetAt: NOW, due: at(ARRIVED - 5, ARRIVED + 7), next: at(ARRIVED + 1) },
    });
    const later = { ...base, commits: 7, sweep: targeted.next };
    expect(planSweep(later, ARRIVED - 60_000, NOW + LAG - 1, LAG)).toEqual({
      next: { ...targeted.next, next: at(ARRIVED - 60_000, ARRIVED + 1) },
    });
    expect(planSweep(later, ARRIVED + 2, NOW + LAG, LAG)).toEqual({
      step: { from: 1, to: 3, arrivals: at(ARRIVED - 5, ARRIVED + 7) },
      // Swept through the target, the mark takes commits 4–7 as its next target, and commit 8 starts after it.
      next: { swept: 3, target: 7, targetAt: NOW + LAG, due: at(ARRIVED + 1), next: at(ARRIVED + 2) },
    });
  });

  test('when arrival times go backwards, the ranges still hold every commit (objects are partitioned by them)', () => {
    let base: ShardProgress | undefined;
    const arrivals = [ARRIVED, ARRIVED - 3 * 3_600_000, ARRIVED + 3_600_000, ARRIVED - 60_000];
    for (const [i, time] of arrivals.entries()) {
      base = shard({ commits: i + 1, sweep: planSweep(base, time, NOW, LAG).next });
    }
    expect(base!.sweep).toMatchObject({ swept: 0, target: 1, due: at(ARRIVED) });
    expect(base!.sweep!.next).toEqual(at(ARRIVED - 3 * 3_600_000, ARRIVED + 3_600_000));
    expect(planSweepAll(base!, NOW).step).toEqual({
      from: 1,
      to: 4,
      arrivals: at(ARRIVED - 3 * 3_600_000, ARRIVED + 3_600_000),
    });
  });

  test('when more commits are due than one sweep covers, the rest are left for the next commit', () => {
    const mark = {
      swept: 10,
      target: 10 + MAX_SWEEP_COMMITS + 5,
      targetAt: 0,
      due: at(ARRIVED, NOW),
      next: at(NOW),
    };
    const plan = planSweep(shard({ commits: 2_000, sweep: mark }), NOW, NOW, LAG);
    expect(plan.step).toEqual({ from: 11, to: 10 + MAX_SWEEP_COMMITS, arrivals: at(ARRIVED, NOW) });
    expect(plan.next).toEqual({ ...mark, swept: 10 + MAX_SWEEP_COMMITS });
  });

  test('when a shard was quiet for days, the first commit after the mark alone bounds the partitions the next sweep lists', () => {
    const weekAgo = ARRIVED - 7 * 86_400_000;
    const mark = { swept: 4, target: 4, targetAt: weekAgo, due: at(weekAgo), next: at(weekAgo) };
    const plan = planSweep(shard({ commits: 4, sweep: mark }), ARRIVED, NOW, LAG);
    expect(plan).toEqual({ next: { ...mark, next: at(ARRIVED) } });
  });

  test('when every commit is due (end of input, or a shard idle for the lag), one step covers them all', () => {
    const mark = {
      swept: 2,
      target: 5,
      targetAt: NOW,
      due: at(ARRIVED - 10, ARRIVED - 3),
      next: at(ARRIVED - 20, ARRIVED),
    };
    expect(planSweepAll(shard({ commits: 9, sweep: mark }), NOW)).toEqual({
      step: { from: 3, to: 9, arrivals: at(ARRIVED - 20, ARRIVED) },
      next: { swept: 9, target: 9, targetAt: NOW, due: at(ARRIVED), next: at(ARRIVED) },
    });
    expect(planSweepAll(shard({ commits: 2, sweep: { ...mark, target: 2 } }), NOW).step).toBeUndefined();
  });

  test('when a sweep lists partitions, it takes every hour between the arrivals, with a minute of slack at each end', () => {
    expect(partitionsBetween(at(Date.UTC(2026, 11, 6, 10, 0, 30), Date.UTC(2026, 11, 6, 12, 30)))).toEqual([
      'dt=2026-12-06/hour=09',
      'dt=2026-12-06/hour=10',
      'dt=2026-12-06/hour=11',
      'dt=2026-12-06/hour=12',
    ]);
    expect(partitionsBetween(at(Date.UTC(2026, 11, 6, 10, 30), Date.UTC(2026, 11, 6, 10, 40)))).toEqual([
      'dt=2026-12-06/hour=10',
    ]);
  });

  test('when a progress item carries a sweep mark, it reads back the same; a malformed one is refused naming the attribute', () => {
    const withMark = shard({
      commits: 6,
      sweep: { swept: 2, target: 6, targetAt: NOW, due: at(ARRIVED - 1, ARRIVED), next: at(ARRIVED) },
    });
    expect(progressFromItem(progressToItem(withMark))).toEqual(withMark);
    const item = progressToItem(withMark);
    for (const bad of [
      '[1, 2, 3]',
      '[5, 4, 0, 0, 0, 0, 0]',
      '[-1, 0, 0, 0, 0, 0, 0]',
      '[0, 0.5, 0, 0, 0, 0, 0]',
      'nope',
    ]) {
      expect(() => progressFromItem({ ...item, sweep: { S: bad } })).toThrow(StateItemInvalidError);
    }
    expect(() => progressFromItem({ ...item, sweep: { S: '[1, 2, 3]' } })).toThrow(
      'State item attribute sweep must be [swept, target, targetAt, dueFrom, dueTo, nextFrom, nextTo]',
    );
  });
});
