import { defaultPipelines, pageActivity, pipelines } from '../../../functions/pipelines';
import { clickEvent, rawRecord } from '../../helpers/records';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('page-activity pipeline', () => {
  it('when the registry is read, it exposes page-activity by name and as a default', () => {
    expect(pipelines['page-activity']).toBe(pageActivity);
    expect(defaultPipelines).toContain(pageActivity);
  });

  it('when its spec is read, it carries every setting the stack needs', () => {
    expect(pageActivity.spec).toMatchObject({
      name: 'page-activity',
      source: { stream: 'clickstream', shards: 2 },
      window: { kind: 'tumbling', sizeMs: 60_000 },
      time: { allowedLatenessMs: 30_000, maxOutOfOrdernessMs: 10_000, idleTimeoutMs: 30_000 },
      sink: { table: 'page_activity_minutely' },
    });
    expect(pageActivity.spec.columns.map((c) => [c.name, c.type])).toEqual([
      ['page', 'string'],
      ['window_start', 'timestamp'],
      ['window_end', 'timestamp'],
      ['events', 'bigint'],
      ['purchases', 'bigint'],
      ['revenue', 'double'],
      ['avg_duration_ms', 'double'],
      ['max_duration_ms', 'double'],
      ['p95_duration_ms', 'double'],
      ['users', 'bigint'],
      ['top_countries', 'json'],
      ['evolved_columns', 'string'],
    ]);
    expect(Object.keys(pageActivity.spec.errorBounds).sort()).toEqual([
      'p95_duration_ms',
      'top_countries',
      'users',
    ]);
  });

  it('when a batch of click events is processed, it produces one row per page and minute with exact counts', () => {
    const events = [
      clickEvent(1, T0 + 1_000, {
        page: '/a',
        action: 'purchase',
        revenue: 10,
        durationMs: 100,
        country: 'DE',
        userId: 'u1',
      }),
      clickEvent(2, T0 + 2_000, {
        page: '/a',
        action: 'view',
        revenue: 0,
        durationMs: 300,
        country: 'DE',
        userId: 'u2',
      }),
      clickEvent(3, T0 + 3_000, {
        page: '/a',
        action: 'purchase',
        revenue: 5.5,
        durationMs: 200,
        country: 'FR',
        userId: 'u1',
      }),
      clickEvent(4, T0 + 61_000, {
        page: '/a',
        action: 'view',
        revenue: 0,
        durationMs: 50,
        country: 'US',
        userId: 'u3',
      }),
    ];
    const prepared = pageActivity.prepare(
      events.map((e, i) => rawRecord(e, { sequenceNumber: i + 1 })),
      { closedWatermark: -Infinity },
    );
    expect(prepared.rejected).toEqual([]);
    const partials = pageActivity.combine(prepared, () => undefined);
    const first = partials.find((p) => p.window.start === T0)!;
    const row = pageActivity.resultRow(first.key, first.window, first.state, first.records);
    expect(row).toEqual({
      page: '/a',
      window_start: T0,
      window_end: T0 + 60_000,
      events: 3,
      purchases: 2,
      revenue: 15.5,
      avg_duration_ms: 200,
      max_duration_ms: 300,
      p95_duration_ms: expect.any(Number) as unknown as number,
      evolved_columns: null,
      users: 2,
      top_countries: JSON.stringify([
        { value: 'DE', count: 2 },
        { value: 'FR', count: 1 },
      ]),
    });
    // quantile_disc's rank: max(1, ⌈0.95 · 3⌉) = 3, the value 300 of [100, 200, 300], within 1%.
    expect(Math.abs((row['p95_duration_ms'] as number) - 300) / 300).toBeLessThanOrEqual(0.01);
  });

  it('when the same event id arrives twice, it is counted once', () => {
    const e = clickEvent(7, T0 + 1_000, { page: '/a' });
    const prepared = pageActivity.prepare(
      [rawRecord(e, { sequenceNumber: 1 }), rawRecord(e, { sequenceNumber: 2 })],
      { closedWatermark: -Infinity },
    );
    const [partial] = pageActivity.combine(prepared, () => undefined);
    expect(partial!.records).toBe(1);
    expect(partial!.dedupeIds).toEqual([e.eventId]);
  });

  it('when an event has a bad country code, it is rejected with the schema path', () => {
    const prepared = pageActivity.prepare([rawRecord(clickEvent(1, T0, { country: 'germany' }))], {
      closedWatermark: -Infinity,
    });
    expect(prepared.rejected).toHaveLength(1);
    expect(prepared.rejected[0]).toMatchObject({ reason: 'SCHEMA_VIOLATION' });
    expect(prepared.rejected[0]!.detail).toMatch(/^country:/);
  });

  it('when one page gets 20,000 distinct-user events in a minute, the stored window state stays far below 400 KB', () => {
    const records = Array.from({ length: 20_000 }, (_, i) =>
      rawRecord(
        clickEvent(i, T0 + (i % 60_000), {
          page: '/hot',
          userId: `u${i}`,
          country: `C${String.fromCharCode(65 + (i % 26))}`,
          durationMs: i,
        }),
        {
          sequenceNumber: i + 1,
        },
      ),
    );
    const prepared = pageActivity.prepare(records, { closedWatermark: -Infinity });
    expect(prepared.rejected).toEqual([]);
    const [partial] = pageActivity.combine(prepared, () => undefined);
    const merged = pageActivity.mergeState(partial!.state, partial!.state);
    const size = Buffer.byteLength(JSON.stringify(merged));
    expect(size).toBeLessThan(20_000);
    const row = pageActivity.resultRow(partial!.key, partial!.window, partial!.state, partial!.records);
    expect(row['events']).toBe(20_000);
    expect(Math.abs((row['users'] as number) - 20_000) / 20_000).toBeLessThan(0.05);
  });
});
