import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../../functions/core/dsl';
import type { Duration } from '../../../../functions/core/duration';
import { PipelineDefinitionError } from '../../../../functions/core/errors';
import { kinesisSequence, rawRecord } from '../../../helpers/records';

const ARRIVAL = Date.UTC(2030, 0, 1, 12);
const NONE = { closedWatermark: Number.NEGATIVE_INFINITY };
const Ev = z.object({ k: z.string(), t: z.number() });
const publishing = (time: { maxEventTimeAhead?: Duration; idleTimeout?: Duration } = {}) =>
  pipeline('clean-events')
    .source({ stream: 'events' })
    .clean({ schema: Ev, eventTime: (e) => e.t })
    .toStream('events-clean', { partitionKey: (e) => e.k, ...time });
const at = (t: number, seq: number) =>
  rawRecord({ k: 'a', t }, { sequenceNumber: kinesisSequence(seq), approximateArrivalTimestamp: ARRIVAL });
const SIX_MINUTES = 360_000;

describe("a publish-only pipeline's time options (toStream)", () => {
  it('when none is given, an event 6 minutes ahead of its arrival is rejected (EVENT_TIME_AHEAD) and shards go idle after 1 minute', () => {
    const p = publishing();
    const prepared = p.prepare([at(ARRIVAL + SIX_MINUTES, 1)], NONE);
    expect(prepared.rejected.map((r) => r.reason)).toEqual(['EVENT_TIME_AHEAD']);
    expect(p.spec.time).toMatchObject({ idleTimeoutMs: 60_000, maxEventTimeAheadMs: 300_000 });
  });

  it("with maxEventTimeAhead '10m', an event 6 minutes ahead is accepted; idleTimeout sets the spec's", () => {
    const p = publishing({ maxEventTimeAhead: '10m', idleTimeout: '5m' });
    const prepared = p.prepare([at(ARRIVAL + SIX_MINUTES, 1)], NONE);
    expect(prepared.rejected).toEqual([]);
    expect(prepared.cleaned.map((c) => c.eventTime)).toEqual([ARRIVAL + SIX_MINUTES]);
    expect(p.spec.time).toMatchObject({ idleTimeoutMs: 300_000, maxEventTimeAheadMs: 600_000 });
  });

  it.each([
    ['a bad duration', { maxEventTimeAhead: '10 minutes' as Duration }, /maxEventTimeAhead.*"10 minutes"/],
    [
      'maxEventTimeAhead over 1 day',
      { maxEventTimeAhead: '2d' as Duration },
      /maxEventTimeAhead must be at most 1d/,
    ],
    ['a zero idle timeout', { idleTimeout: 0 }, /idleTimeout must be positive \(given 0\)/],
    ['a negative idle timeout', { idleTimeout: '-1m' as Duration }, /idleTimeout/],
  ])('when given %s, toStream() refuses it in one line naming the option', (_, time, message) => {
    let error: unknown;
    try {
      publishing(time);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PipelineDefinitionError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('Pipeline "clean-events"');
    expect((error as Error).message).not.toContain('\n');
  });

  it("when a toStream() with time options goes on to keyBy(), it is refused in one line pointing to window()'s options", () => {
    const keyed = () => publishing({ maxEventTimeAhead: '10m' }).keyBy((e) => e.k);
    expect(keyed).toThrow(PipelineDefinitionError);
    expect(keyed).toThrow(
      /toStream\(\) option maxEventTimeAhead applies only to a pipeline that ends at toStream\(\).*window\(\)'s options/,
    );
    expect(() => publishing({ idleTimeout: '2m' }).keyBy((e) => e.k)).toThrow(/option idleTimeout/);
    // Without them the windowed pipeline builds, with its time from window().
    const windowed = publishing()
      .keyBy((e) => e.k)
      .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', maxEventTimeAhead: '10m' })
      .aggregate({ n: count() })
      .sink({ table: 'events_per_minute' });
    expect(windowed.spec.time.maxEventTimeAheadMs).toBe(600_000);
  });
});
