import fc from 'fast-check';
import { PipelineDefinitionError } from '../../../../functions/core/errors';
import { slidingWindows } from '../../../../functions/core/windows/slidingWindow';
import {
  mergeSessions,
  sessionsOverlap,
  sessionWindow,
} from '../../../../functions/core/windows/sessionWindow';
import { tumblingWindow, tumblingWindowStart } from '../../../../functions/core/windows/tumblingWindow';
import {
  closeTime,
  earliestWindowStart,
  isWindowClosed,
  session,
  sliding,
  tumbling,
} from '../../../../functions/core/windows/windowSpecs';

describe('tumbling windows', () => {
  it('when a record is at 90 s with 1 min windows, it belongs to [60 s, 120 s)', () => {
    expect(tumblingWindow(90_000, 60_000)).toEqual({ start: 60_000, end: 120_000 });
  });

  it('when a record is exactly on a boundary, it belongs to the window starting there (end is exclusive)', () => {
    expect(tumblingWindow(120_000, 60_000)).toEqual({ start: 120_000, end: 180_000 });
  });

  it('when any event time is assigned, the window contains it and is aligned', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 4e12 }), fc.integer({ min: 1, max: 1e8 }), (t, size) => {
        const start = tumblingWindowStart(t, size);
        expect(start <= t && t < start + size).toBe(true);
        expect(Math.abs(start % size)).toBe(0);
      }),
    );
  });
});

describe('sliding windows', () => {
  it('when size is 1 h and slide 15 m, a record belongs to 4 windows, oldest first', () => {
    const t = Date.UTC(2026, 0, 1, 10, 20);
    const ws = slidingWindows(t, 3_600_000, 900_000);
    expect(ws.map((w) => new Date(w.start).toISOString())).toEqual([
      '2026-01-01T09:30:00.000Z',
      '2026-01-01T09:45:00.000Z',
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T10:15:00.000Z',
    ]);
  });

  it('when any record is assigned, every window contains it and exactly the containing windows are returned', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 20 }),
        (t, slide, ratio) => {
          const size = slide * ratio;
          const ws = slidingWindows(t, size, slide);
          expect(ws).toHaveLength(ratio);
          for (const w of ws)
            expect(w.start <= t && t < w.end && w.end - w.start === size && w.start % slide === 0).toBe(true);
        },
      ),
    );
  });

  it('when slide does not divide size, it still returns every containing window', () => {
    const ws = slidingWindows(100, 25, 10);
    expect(ws).toEqual([
      { start: 80, end: 105 },
      { start: 90, end: 115 },
      { start: 100, end: 125 },
    ]);
  });
});

describe('session windows', () => {
  it('when a record opens a session, the session is [t, t + gap)', () => {
    expect(sessionWindow(1_000, 300)).toEqual({ start: 1_000, end: 1_300 });
  });

  it('when sessions touch or overlap, they merge; when apart, they do not', () => {
    expect(sessionsOverlap({ start: 0, end: 10 }, { start: 10, end: 20 })).toBe(true);
    expect(sessionsOverlap({ start: 0, end: 10 }, { start: 5, end: 8 })).toBe(true);
    expect(sessionsOverlap({ start: 0, end: 10 }, { start: 11, end: 20 })).toBe(false);
  });

  it('when a late record bridges two stored sessions, mergeSessions merges all three and reports both as absorbed', () => {
    const add = (a: Record<string, unknown>, b: Record<string, unknown>) => ({
      n: (a['n'] as number) + (b['n'] as number),
    });
    const merged = mergeSessions(
      {
        window: { start: 120, end: 220 },
        state: { n: 1 },
        records: 1,
        fence: { s0: '05' },
        dedupeIds: ['c'],
      },
      [
        {
          window: { start: 0, end: 150 },
          state: { n: 3 },
          records: 3,
          fence: { s0: '03', s1: '09' },
          dedupeIds: ['a'],
        },
        {
          window: { start: 200, end: 400 },
          state: { n: 2 },
          records: 2,
          fence: { s0: '07' },
          dedupeIds: ['b'],
        },
        { window: { start: 1_000, end: 1_100 }, state: { n: 9 }, records: 9, fence: {} },
      ],
      add,
    );
    expect(merged.window).toEqual({ start: 0, end: 400 });
    expect(merged.state).toEqual({ n: 6 });
    expect(merged.records).toBe(6);
    expect(merged.fence).toEqual({ s0: '07', s1: '09' });
    expect([...(merged.dedupeIds ?? [])].sort()).toEqual(['a', 'b', 'c']);
    expect(merged.absorbed).toEqual([
      { start: 0, end: 150 },
      { start: 200, end: 400 },
    ]);
  });

  it('when a new session overlaps nothing, it is returned unchanged with nothing absorbed', () => {
    const merged = mergeSessions(
      { window: { start: 0, end: 10 }, state: { n: 1 }, records: 1, fence: {} },
      [],
      () => ({}),
    );
    expect(merged).toEqual({
      window: { start: 0, end: 10 },
      state: { n: 1 },
      records: 1,
      fence: {},
      absorbed: [],
    });
  });
});

describe('window specs and the close rule', () => {
  it('when built from durations, it parses them to ms', () => {
    expect(tumbling('1h')).toEqual({ kind: 'tumbling', sizeMs: 3_600_000 });
    expect(sliding('1h', '15m')).toEqual({ kind: 'sliding', sizeMs: 3_600_000, slideMs: 900_000 });
    expect(session('30m')).toEqual({ kind: 'session', gapMs: 1_800_000 });
  });

  it('when given bad sizes, it throws naming the value', () => {
    expect(() => tumbling('0s')).toThrow(PipelineDefinitionError);
    expect(() => tumbling('an hour' as never)).toThrow(/"an hour"/);
    expect(() => sliding('15m', '1h')).toThrow(/slide must not exceed its size/);
    expect(() => session(0)).toThrow(/session gap must be positive/);
  });

  it('when the watermark equals end + allowedLateness, the window is closed (≥ rule); 1 ms before, it is open', () => {
    const w = { start: 0, end: 60_000 };
    expect(closeTime(w, 30_000)).toBe(90_000);
    expect(isWindowClosed(w, 30_000, 90_000)).toBe(true);
    expect(isWindowClosed(w, 30_000, 89_999)).toBe(false);
  });
});

describe('the earliest window start (how far back the results table projects)', () => {
  const Y2K = Date.UTC(2000, 0, 1);
  it('when windows are epoch-aligned, the first window of a record at the earliest time starts before it', () => {
    expect(new Date(earliestWindowStart(tumbling('1h'), Y2K)).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    // Weeks aligned to the epoch (a Thursday): the week holding Saturday 2000-01-01 began on the 30th.
    expect(new Date(earliestWindowStart(tumbling('7d'), Y2K)).toISOString()).toBe('1999-12-30T00:00:00.000Z');
    expect(new Date(earliestWindowStart(sliding('1h', '15m'), Y2K + 60_000)).toISOString()).toBe(
      '1999-12-31T23:15:00.000Z',
    );
  });

  it('when windows are sessions or there are none, it is the record itself', () => {
    expect(earliestWindowStart(session('30m'), Y2K)).toBe(Y2K);
    expect(earliestWindowStart(undefined, Y2K)).toBe(Y2K);
  });

  it('when any record at or after the earliest time opens windows, none starts before it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 10 ** 9 }),
        (sizeMinutes, per, offset) => {
          const size = sizeMinutes * 60_000;
          const slide = Math.max(1, Math.floor(size / per));
          const earliest = earliestWindowStart(sliding(size, slide), Y2K);
          for (const w of slidingWindows(Y2K + offset, size, slide))
            expect(w.start).toBeGreaterThanOrEqual(earliest);
        },
      ),
      { numRuns: 300 },
    );
  });
});
