/**
 * Event-time skew and key limits (issue 12): a producer's clock cannot close everyone's windows, and keys
 * are limited in the unit DynamoDB and Parquet measure (UTF-8 bytes).
 */
import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../../functions/core/dsl';
import type { Duration } from '../../../../functions/core/duration';
import { keyProblem, MAX_KEY_BYTES } from '../../../../functions/core/engine/definition';
import { PipelineDefinitionError } from '../../../../functions/core/errors';
import { kinesisSequence, rawRecord } from '../../../helpers/records';

const Ev = z.object({ k: z.string(), t: z.number() });
const ARRIVAL = Date.UTC(2026, 0, 1, 12);
const NONE = { closedWatermark: -Infinity };

const counting = (window: { maxEventTimeAhead?: Duration } = {}) =>
  pipeline('skew')
    .source({ stream: 's' })
    .clean({ schema: Ev, eventTime: (e) => e.t })
    .keyBy((e) => e.k)
    .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', ...window })
    .aggregate({ n: count() })
    .sink({ table: 't' });

const at = (t: number, seq: number, k = 'a') =>
  rawRecord({ k, t }, { sequenceNumber: kinesisSequence(seq), approximateArrivalTimestamp: ARRIVAL });

describe('maxEventTimeAhead', () => {
  it('when no setting is given, it accepts event times up to 5 minutes after arrival and rejects later ones as EVENT_TIME_AHEAD', () => {
    const prepared = counting().prepare([at(ARRIVAL + 300_000, 1), at(ARRIVAL + 300_001, 2)], NONE);
    expect(prepared.cleaned.map((c) => c.eventTime)).toEqual([ARRIVAL + 300_000]);
    expect(prepared.rejected.map((r) => [r.sequenceNumber, r.reason])).toEqual([
      [kinesisSequence(2), 'EVENT_TIME_AHEAD'],
    ]);
    expect(prepared.rejected[0]!.detail).toContain('maxEventTimeAhead 300000 ms');
  });

  it('when the pipeline sets it, the rejection follows the setting', () => {
    const prepared = counting({ maxEventTimeAhead: '10s' }).prepare(
      [at(ARRIVAL + 10_000, 1), at(ARRIVAL + 10_001, 2)],
      NONE,
    );
    expect(prepared.rejected.map((r) => r.reason)).toEqual(['EVENT_TIME_AHEAD']);
    expect(prepared.cleaned).toHaveLength(1);
  });

  it('when a record is rejected as ahead, it moves no watermark', () => {
    const prepared = counting().prepare([at(ARRIVAL - 60_000, 1), at(ARRIVAL + 86_400_000, 2)], NONE);
    expect(Object.values(prepared.shards)[0]?.maxEventTime).toBe(ARRIVAL - 60_000);
  });

  it('when an accepted record is ahead of its arrival, the shard watermark stops at the arrival time', () => {
    const prepared = counting().prepare([at(ARRIVAL + 240_000, 1)], NONE);
    expect(prepared.cleaned.map((c) => c.eventTime)).toEqual([ARRIVAL + 240_000]);
    expect(Object.values(prepared.shards)[0]?.maxEventTime).toBe(ARRIVAL);
  });

  it('when the setting is over 1 day, the definition is refused naming the value', () => {
    expect(() => counting({ maxEventTimeAhead: '2d' })).toThrow(PipelineDefinitionError);
    expect(() => counting({ maxEventTimeAhead: '2d' })).toThrow(
      'maxEventTimeAhead must be at most 1d (given "2d")',
    );
  });
});

describe('key limits', () => {
  it('when a key fits in MAX_KEY_BYTES UTF-8 bytes, it is accepted whatever it spells', () => {
    for (const key of [
      'shards',
      '#',
      '#pipeline',
      'P#page-activity',
      'W#x',
      ' ',
      '中'.repeat(341),
      'a'.repeat(MAX_KEY_BYTES),
      '😀'.repeat(256),
    ]) {
      expect(keyProblem(key)).toBeUndefined();
    }
  });

  it('when a key is longer than MAX_KEY_BYTES in UTF-8 though short in characters, it is INVALID_KEY naming its byte length', () => {
    const key = '中'.repeat(1000);
    expect(key.length).toBeLessThan(MAX_KEY_BYTES);
    expect(keyProblem(key)).toBe(`is 3000 UTF-8 bytes long (at most ${MAX_KEY_BYTES})`);
    const prepared = counting().prepare([at(ARRIVAL, 1, key)], NONE);
    expect(prepared.rejected.map((r) => r.reason)).toEqual(['INVALID_KEY']);
    expect(prepared.rejected[0]!.detail).toContain('3000 UTF-8 bytes');
  });

  it('when a key holds a lone surrogate (which UTF-8 cannot carry), it is INVALID_KEY', () => {
    expect(keyProblem('a\ud800b')).toBe('contains a lone UTF-16 surrogate');
    expect(keyProblem('\udc00')).toBe('contains a lone UTF-16 surrogate');
    expect(
      counting()
        .prepare([at(ARRIVAL, 1, 'x\ud83d')], NONE)
        .rejected.map((r) => r.reason),
    ).toEqual(['INVALID_KEY']);
  });

  it('when a key is empty or not a string, it names what it got', () => {
    expect(keyProblem('')).toBe('is not a non-empty string');
    expect(keyProblem(42)).toBe('is not a non-empty string');
  });
});
