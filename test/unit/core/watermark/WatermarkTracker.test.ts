import { WatermarkTracker } from '../../../../functions/core/watermark/WatermarkTracker';

const settings = { maxOutOfOrdernessMs: 5_000, idleTimeoutMs: 60_000 };

describe('WatermarkTracker', () => {
  it('when a shard sees records, its watermark is max event time − maxOutOfOrderness', () => {
    const t = new WatermarkTracker(settings);
    t.observe('s0', 100_000, 0);
    t.observe('s0', 90_000, 1);
    expect(t.watermark(1)).toBe(95_000);
  });

  it('when two shards are active, the pipeline watermark is the minimum', () => {
    const t = new WatermarkTracker(settings);
    t.observe('s0', 100_000, 0);
    t.observe('s1', 50_000, 0);
    expect(t.watermark(10)).toBe(45_000);
  });

  it('when a registered shard has no records yet, it holds the watermark at -Infinity until it is idle', () => {
    const t = new WatermarkTracker(settings);
    t.register('s1', 0);
    t.observe('s0', 100_000, 0);
    expect(t.watermark(60_000)).toBe(-Infinity);
    expect(t.watermark(60_001)).toBe(95_000);
  });

  it('when a shard is idle for longer than idleTimeout, it stops holding the watermark back', () => {
    const t = new WatermarkTracker(settings);
    t.observe('s0', 100_000, 0);
    t.observe('s1', 50_000, 0);
    t.observe('s0', 200_000, 30_000);
    expect(t.watermark(60_000)).toBe(45_000);
    expect(t.watermark(60_001)).toBe(195_000);
  });

  it('when a shard is closed (resharded and drained), it no longer holds the watermark back', () => {
    const t = new WatermarkTracker(settings);
    t.observe('parent', 10_000, 0);
    t.observe('child', 100_000, 0);
    expect(t.watermark(0)).toBe(5_000);
    t.close('parent');
    expect(t.watermark(0)).toBe(95_000);
  });

  it('when every shard is idle, the watermark is the maximum of their watermarks', () => {
    const t = new WatermarkTracker(settings);
    t.observe('s0', 100_000, 0);
    t.observe('s1', 50_000, 0);
    expect(t.watermark(120_000)).toBe(95_000);
  });

  it('when a shard becomes active again behind the watermark, the watermark does not move backwards', () => {
    const t = new WatermarkTracker(settings);
    t.observe('s0', 100_000, 0);
    t.observe('s1', 50_000, 0);
    expect(t.watermark(120_000)).toBe(95_000);
    t.observe('s1', 60_000, 120_000);
    expect(t.watermark(120_000)).toBe(95_000);
  });
});
