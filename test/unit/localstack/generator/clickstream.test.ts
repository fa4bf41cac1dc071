import {
  generateClickstream,
  RECORD_KINDS,
  toJsonLines,
  windowStartIso,
  type ClickEvent,
} from '../../../../localstack/generator/clickstream';
import { createRandom, zipfSampler } from '../../../../localstack/generator/random';

const parse = (data: string): unknown => {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
};

describe('generateClickstream', () => {
  it('when called twice with the same seed, it returns identical records and totals', () => {
    const a = generateClickstream({ events: 300, seed: 11 });
    const b = generateClickstream({ events: 300, seed: 11 });
    expect(b.records).toEqual(a.records);
    expect(b.totals).toEqual(a.totals);
  });

  it('when the seed differs, it returns different events', () => {
    const a = generateClickstream({ events: 300, seed: 11 });
    const b = generateClickstream({ events: 300, seed: 12 });
    expect(b.records.map((r) => r.data)).not.toEqual(a.records.map((r) => r.data));
  });

  it('when asked for N events, it returns N distinct on-time events plus the injected records', () => {
    const { records, totals } = generateClickstream({
      events: 500,
      seed: 3,
      duplicates: 7,
      late: 4,
      malformed: 9,
    });
    const kinds = (k: string): number => records.filter((r) => r.kind === k).length;
    expect(kinds(RECORD_KINDS.EVENT)).toBe(500);
    expect(kinds(RECORD_KINDS.DUPLICATE)).toBe(7);
    expect(kinds(RECORD_KINDS.LATE)).toBe(4);
    expect(kinds(RECORD_KINDS.MALFORMED)).toBe(9);
    expect(totals.records).toBe(520);
    expect(totals.injected).toMatchObject({ duplicates: 7, late: 4, malformed: 9 });
    expect(
      new Set(records.filter((r) => r.kind === RECORD_KINDS.EVENT).map((r) => r.event?.eventId)).size,
    ).toBe(500);
  });

  it('when totals are computed, they equal an independent recount of the distinct on-time events', () => {
    const { records, totals, options } = generateClickstream({ events: 800, seed: 5 });
    const events = records
      .filter((r) => r.kind === RECORD_KINDS.EVENT)
      .map((r) => JSON.parse(r.data) as ClickEvent);
    const perPage = new Map<string, { count: number; purchases: number; cents: number }>();
    for (const e of events) {
      const t = perPage.get(e.page) ?? { count: 0, purchases: 0, cents: 0 };
      t.count += 1;
      t.purchases += e.action === 'purchase' ? 1 : 0;
      t.cents += Math.round(e.revenue * 100);
      perPage.set(e.page, t);
    }
    expect(Object.keys(totals.byPage).sort()).toEqual([...perPage.keys()].sort());
    for (const [page, t] of perPage) {
      expect(totals.byPage[page]).toEqual({ count: t.count, purchases: t.purchases, revenue: t.cents / 100 });
    }
    const windowSum = Object.values(totals.byWindow).reduce((s, t) => s + t.count, 0);
    expect(windowSum).toBe(800);
    expect(totals.overall.count).toBe(800);
    const pageWindowSum = Object.values(totals.byPageWindow).reduce((s, t) => s + t.purchases, 0);
    expect(pageWindowSum).toBe(totals.overall.purchases);
    // 6 minutes from a minute-aligned base: six one-minute windows.
    expect(Object.keys(totals.byWindow)).toHaveLength(options.spanMs / options.windowMs);
  });

  it('when events are generated, every valid one matches the schema and only purchases carry revenue', () => {
    const { records } = generateClickstream({ events: 1000, seed: 9 });
    for (const r of records.filter((x) => x.kind !== RECORD_KINDS.MALFORMED)) {
      const e = JSON.parse(r.data) as ClickEvent;
      expect(e.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(['view', 'click', 'add_to_cart', 'purchase']).toContain(e.action);
      expect(['mobile', 'desktop', 'tablet']).toContain(e.device);
      expect(e.country).toMatch(/^[A-Z]{2}$/);
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
      expect(e.action === 'purchase' ? e.revenue > 0 : e.revenue === 0).toBe(true);
      expect(new Date(Date.parse(e.ts)).toISOString()).toBe(e.ts);
      expect(r.partitionKey).toBe(e.userId);
    }
  });

  it('when pages are sampled, the key skew is Zipf-like (the top page dominates the tail)', () => {
    const { totals } = generateClickstream({ events: 4000, seed: 2 });
    const counts = Object.values(totals.byPage)
      .map((t) => t.count)
      .sort((a, b) => b - a);
    expect(counts[0]).toBeGreaterThan(5 * (counts[counts.length - 1] ?? 0));
    expect(totals.byPage['/']?.count).toBe(counts[0]);
  });

  it('when events are out of order, none is behind the newest sent event by maxOutOfOrderness or more', () => {
    const { records, totals, options } = generateClickstream({
      events: 2000,
      seed: 4,
      outOfOrderFraction: 0.2,
    });
    let max = Number.NEGATIVE_INFINITY;
    let behind = 0;
    for (const r of records.filter((x) => x.kind === RECORD_KINDS.EVENT)) {
      const t = Date.parse((r.event as ClickEvent).ts);
      if (t < max) behind += 1;
      expect(max - t).toBeLessThan(options.maxOutOfOrdernessMs);
      max = Math.max(max, t);
    }
    expect(behind).toBe(totals.injected.outOfOrder);
    expect(behind).toBeGreaterThan(100);
  });

  it('when late events are injected, they come last and fall in a window closed by the watermark at that point', () => {
    const { records, options } = generateClickstream({ events: 600, seed: 6, late: 5 });
    const late = records.slice(-5);
    expect(late.every((r) => r.kind === RECORD_KINDS.LATE)).toBe(true);
    const maxOnTime = Math.max(
      ...records
        .filter((r) => r.kind === RECORD_KINDS.EVENT)
        .map((r) => Date.parse((r.event as ClickEvent).ts)),
    );
    const watermark = maxOnTime - options.maxOutOfOrdernessMs;
    for (const r of late) {
      const t = Date.parse((r.event as ClickEvent).ts);
      const windowEnd = Date.parse(windowStartIso(t, options.windowMs)) + options.windowMs;
      expect(watermark).toBeGreaterThan(windowEnd + options.allowedLatenessMs);
    }
  });

  it('when duplicates are injected, each re-sends the exact payload of an earlier event', () => {
    const { records } = generateClickstream({ events: 300, seed: 8, duplicates: 6 });
    records.forEach((r, i) => {
      if (r.kind !== RECORD_KINDS.DUPLICATE) return;
      const earlier = records.slice(0, i).find((o) => o.kind === RECORD_KINDS.EVENT && o.data === r.data);
      expect(earlier).toBeDefined();
    });
  });

  it('when malformed records are injected, each is invalid JSON or violates the event schema', () => {
    const { records } = generateClickstream({ events: 500, seed: 10, malformed: 40 });
    const malformed = records.filter((r) => r.kind === RECORD_KINDS.MALFORMED);
    expect(malformed).toHaveLength(40);
    for (const r of malformed) {
      const value = parse(r.data) as Record<string, unknown> | undefined;
      const valid =
        value !== undefined &&
        typeof value['page'] === 'string' &&
        typeof value['durationMs'] === 'number' &&
        ['view', 'click', 'add_to_cart', 'purchase'].includes(value['action'] as string) &&
        !Number.isNaN(Date.parse(value['ts'] as string));
      expect(valid).toBe(false);
    }
    expect(malformed.some((r) => parse(r.data) === undefined)).toBe(true);
  });

  it('when options are invalid, it throws one error naming every bad value', () => {
    expect(() => generateClickstream({ events: 0, pages: -1 })).toThrow(
      'Invalid clickstream options: events must be an integer ≥ 1 (given 0); pages must be an integer ≥ 1 (given -1)',
    );
    expect(() => generateClickstream({ spanMs: 60_000, late: 1 })).toThrow(/spanMs must be at least/);
  });

  it('when written as JSON Lines, it yields one line per record', () => {
    const { records } = generateClickstream({ events: 50, seed: 1 });
    const lines = toJsonLines(records).trimEnd().split('\n');
    expect(lines).toHaveLength(records.length);
    expect(lines[0]).toBe(records[0]?.data);
  });
});

describe('random', () => {
  it('when a Zipf sampler draws, rank 0 is the most frequent and every rank is in range', () => {
    const rng = createRandom(1);
    const sample = zipfSampler(10, 1.2);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const r = sample(rng);
      counts[r] = (counts[r] ?? 0) + 1;
    }
    expect(Math.max(...counts)).toBe(counts[0]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(counts[0]).toBeGreaterThan(counts[9] ?? 0);
  });
});
