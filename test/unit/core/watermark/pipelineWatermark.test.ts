import { closeableThrough } from '../../../../functions/core/state/closeableThrough';
import { pipelineWatermark } from '../../../../functions/core/watermark/pipelineWatermark';
import { WatermarkTracker } from '../../../../functions/core/watermark/WatermarkTracker';
import type { ShardProgress } from '../../../../functions/core/state/types';

const shard = (
  shardId: string,
  watermark: number | null,
  lastActivity: number,
  closed = false,
  frozen = -Infinity,
): ShardProgress => ({
  pipeline: 'p',
  shardId,
  watermark,
  maxEventTime: watermark,
  lastSequence: '0',
  lastActivity,
  closed,
  frozen,
  commits: 0,
  pending: [],
  version: 1,
});

describe('pipelineWatermark', () => {
  test('when every shard is active, it is the minimum shard watermark', () => {
    expect(pipelineWatermark([shard('a', 100, 0), shard('b', 50, 0)], 10, 30)).toBe(50);
  });

  test('when a shard is idle or closed, it no longer holds the watermark back', () => {
    expect(
      pipelineWatermark([shard('a', 100, 100), shard('b', 50, 0), shard('c', 10, 100, true)], 100, 30),
    ).toBe(100);
  });

  test('when every shard is idle, it is the highest shard watermark', () => {
    expect(pipelineWatermark([shard('a', 100, 0), shard('b', 50, 0)], 1_000, 30)).toBe(100);
  });

  test('when an active shard has no watermark yet, or fewer shards than provisioned are known, it is -Infinity', () => {
    expect(pipelineWatermark([shard('a', 100, 0), shard('b', null, 0)], 10, 30)).toBe(-Infinity);
    expect(pipelineWatermark([shard('a', 100, 0)], 10, 30, 2)).toBe(-Infinity);
    expect(pipelineWatermark([], 10, 30)).toBe(-Infinity);
  });

  test('when a shard is idle for exactly idleTimeout, it still holds the watermark (idle is strictly longer)', () => {
    expect(pipelineWatermark([shard('a', 100, 70), shard('b', 50, 0)], 100, 100)).toBe(50);
    expect(pipelineWatermark([shard('a', 100, 70), shard('b', 50, 0)], 101, 100)).toBe(100);
  });
});

describe('the one watermark rule, as the bounded runner sees it (WatermarkTracker)', () => {
  // Both runtimes used to carry their own copy, which disagreed on the idle boundary (> vs >=: pinned in
  // WatermarkTracker.test.ts) and on closed shards (pinned here).
  const settings = { maxOutOfOrdernessMs: 0, idleTimeoutMs: 100 };

  test('when every open shard is idle, a closed shard with a higher watermark counts toward the highest', () => {
    const t = new WatermarkTracker(settings);
    t.observe('parent', 300, 0);
    t.observe('child', 100, 0);
    t.close('parent');
    expect(t.watermark(50)).toBe(100); // the child is active: the closed parent never holds it back
    expect(t.watermark(1_000)).toBe(300); // all quiet: everything seen so far may close
  });
});

describe('closeableThrough', () => {
  test('when shards have close marks, windows may close up to the lowest open one; closed shards do not count', () => {
    expect(
      closeableThrough([
        shard('a', 0, 0, false, 500),
        shard('b', 0, 0, false, 300),
        shard('c', 0, 0, true, 10),
      ]),
    ).toBe(300);
  });

  test('when fewer open shards than provisioned are known, or none, nothing may close; when every shard is closed, everything may', () => {
    expect(closeableThrough([shard('a', 0, 0, false, 500)], 2)).toBe(-Infinity);
    expect(closeableThrough([])).toBe(-Infinity);
    expect(closeableThrough([shard('a', 0, 0, true, 5)])).toBe(Infinity);
  });
});
