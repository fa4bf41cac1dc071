import { effectiveWatermark, pipelineWatermark } from '../../../../functions/core/state/watermark';
import type { ShardProgress } from '../../../../functions/core/types';

const shard = (shardId: string, watermark: number | null, lastActivity: number, closed = false): ShardProgress => ({
  pipeline: 'p',
  shardId,
  watermark,
  maxEventTime: watermark,
  lastSequence: '0',
  archivedSequence: '0',
  lastActivity,
  closed,
  version: 1,
});

describe('pipelineWatermark', () => {
  test('when every shard is active, it is the minimum shard watermark', () => {
    expect(pipelineWatermark([shard('a', 100, 0), shard('b', 50, 0)], 10, 30)).toBe(50);
  });

  test('when a shard is idle or closed, it no longer holds the watermark back', () => {
    expect(pipelineWatermark([shard('a', 100, 100), shard('b', 50, 0), shard('c', 10, 100, true)], 100, 30)).toBe(100);
  });

  test('when every shard is idle, it is the highest shard watermark', () => {
    expect(pipelineWatermark([shard('a', 100, 0), shard('b', 50, 0)], 1_000, 30)).toBe(100);
  });

  test('when an active shard has no watermark yet, or fewer shards than provisioned are known, it is -Infinity', () => {
    expect(pipelineWatermark([shard('a', 100, 0), shard('b', null, 0)], 10, 30)).toBe(-Infinity);
    expect(pipelineWatermark([shard('a', 100, 0)], 10, 30, 2)).toBe(-Infinity);
    expect(pipelineWatermark([], 10, 30)).toBe(-Infinity);
  });

  test('when windows were already closed at a higher watermark, the effective watermark never goes back', () => {
    expect(effectiveWatermark({ shards: [shard('a', 10, 0)], pipeline: { pipeline: 'p', closedWatermark: 500 } }, 0, 30)).toBe(500);
  });
});
