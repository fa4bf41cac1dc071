import { session } from '../../../../functions/core/dsl';
import { watermarkAt, windowsView } from '../../../../localstack/console/windowsView';
import {
  busyStatus,
  clicks,
  minute,
  pipelineStatus,
  SAMPLE_AT,
  shardStatus,
} from '../../../helpers/consoleFixtures';

const topology = clicks.topology();
const AT = SAMPLE_AT;
const status = busyStatus;

describe('watermarkAt', () => {
  it('when every shard is active, it is the lowest shard watermark', () => {
    expect(watermarkAt(status, topology, AT)).toBe(minute(7, 30));
  });

  it('when a shard has been idle longer than idleTimeout, it no longer holds the watermark back', () => {
    const idle = pipelineStatus({
      shards: [
        shardStatus('a', { watermark: minute(8), lastActivity: AT - 1_000 }),
        shardStatus('b', { watermark: minute(7, 30), lastActivity: AT - 31_000 }),
      ],
    });
    expect(watermarkAt(idle, topology, AT)).toBe(minute(8));
  });

  it('when no shard has progress yet, there is no watermark', () => {
    expect(watermarkAt(pipelineStatus(), topology, AT)).toBeNull();
  });
});

describe('windowsView', () => {
  it('when the watermark has passed end + lateness, the window is closing; the others are due later', () => {
    const view = windowsView(status, topology, minute(7, 30), 4);
    expect({ open: view.open, closing: view.closing, emitted: view.emitted }).toEqual({
      open: 1,
      closing: 2,
      emitted: 4,
    });
    expect(view.nextDue).toEqual([
      { start: minute(5), end: minute(6), closesAt: minute(6, 30), state: 'closing', dueInMs: 0 },
      { start: minute(6), end: minute(7), closesAt: minute(7, 30), state: 'closing', dueInMs: 0 },
      { start: minute(7), end: minute(8), closesAt: minute(8, 30), state: 'open', dueInMs: 60_000 },
    ]);
  });

  it('when a close pass raised the stored close watermark, its windows count as closing', () => {
    const view = windowsView({ ...status, closedWatermark: minute(9) }, topology, null, 0);
    expect(view.closing).toBe(3);
  });

  it('when the pipeline uses session windows, it does not list windows due', () => {
    const sessions = { ...topology, window: session('5m') };
    const view = windowsView(status, sessions, minute(7, 30), 0);
    expect(view.nextDue).toEqual([]);
    expect(view.note).toBe('session windows close per key, each at its own time');
  });
});
