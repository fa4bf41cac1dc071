import {
  mergeRejected,
  payloadPreview,
  rejectionStage,
  summarizeRejected,
  type RejectedSummary,
} from '../../../../localstack/console/rejectedRecords';
import { SummarizedObjects, type SummarizedObject } from '../../../../localstack/start/bucketObjects';
import { stubS3 } from '../query/s3Stub';
import { clicks } from '../../../helpers/consoleFixtures';

const topology = clicks.topology();
const line = (reason: string, detail: string, data = 'e30=', key = 'k'): string =>
  JSON.stringify({
    reason,
    detail,
    shardId: 'shardId-000000000000',
    sequenceNumber: '7',
    partitionKey: key,
    data,
  });

describe('rejectionStage', () => {
  it.each([
    ['SCHEMA_VIOLATION', 'page: Invalid input', 'clean'],
    ['INVALID_JSON', 'Unexpected token', 'clean'],
    ['OPERATOR_THREW', 'operator eventTime threw: boom', 'clean'],
    ['OPERATOR_THREW', 'operator dedupeBy threw: boom', 'clean'],
    ['OPERATOR_THREW', 'operator toCents threw: boom', 'operator:toCents'],
    ['OPERATOR_RETURNED_INVALID', 'operator dropHealth returned 1, not a boolean', 'operator:dropHealth'],
    ['OPERATOR_THREW', 'operator keyBy threw: boom', 'keyBy'],
    ['INVALID_KEY', 'keyBy returned 1, which is not a non-empty string', 'keyBy'],
    ['OPERATOR_THREW', 'aggregate cents threw: boom', 'aggregate'],
    ['OPERATOR_RETURNED_INVALID', 'aggregate cents: expected a finite number', 'aggregate'],
    ['STATE_LIMIT', 'state of one record exceeds 4 MB', 'window'],
  ])('when the reason is %s with detail "%s", it is the %s stage', (reason, detail, stage) => {
    expect(rejectionStage({ reason, detail }, topology)).toBe(stage);
  });

  it.each([
    ['SCHEMA_VIOLATION', 'operator toCents threw: x: Invalid input'],
    ['SCHEMA_VIOLATION', 'aggregate cents: Invalid input'],
    ['INVALID_JSON', 'operator keyBy threw'],
  ])(
    'when a %s detail starts like a user function failure (a payload key a producer chose: "%s"), it stays at clean',
    (reason, detail) => {
      expect(rejectionStage({ reason, detail }, topology)).toBe('clean');
    },
  );

  it('when one operator name starts with another, the longer name wins', () => {
    const operators = [
      { kind: 'map' as const, name: 'a' },
      { kind: 'map' as const, name: 'a b' },
    ];
    expect(rejectionStage({ reason: 'OPERATOR_THREW', detail: 'operator a b threw: x' }, { operators })).toBe(
      'operator:a b',
    );
  });
});

describe('summarizeRejected and mergeRejected', () => {
  it('when an object holds rejections, it counts them by stage and reason and keeps the last ones', () => {
    const text = [
      line('SCHEMA_VIOLATION', 'page: Invalid input', Buffer.from('{"page":1}').toString('base64')),
      '',
      line('OPERATOR_THREW', 'operator toCents threw: boom'),
      'not json',
      line('SCHEMA_VIOLATION', 'price: Invalid input'),
    ].join('\n');
    const summary = summarizeRejected(text, topology, 2);
    expect(summary.records).toBe(4);
    expect(Object.fromEntries(summary.byStage)).toEqual({ clean: 3, 'operator:toCents': 1 });
    expect(Object.fromEntries(summary.byReason)).toEqual({
      SCHEMA_VIOLATION: 2,
      OPERATOR_THREW: 1,
      UNREADABLE_LINE: 1,
    });
    expect(summary.recent.map((r) => r.detail)).toEqual(['not json', 'price: Invalid input']);
  });

  it('when the payload is long or hostile, it keeps a bounded UTF-8 preview of it, as text', () => {
    const hostile = `<script>alert(1)</script>${'x'.repeat(1000)}`;
    const [rejection] = summarizeRejected(
      line('SCHEMA_VIOLATION', 'x', Buffer.from(hostile).toString('base64'), '<b>k</b>'),
      topology,
      5,
    ).recent;
    expect(rejection?.payload.startsWith('<script>alert(1)</script>xxx')).toBe(true);
    expect(rejection?.payload).toHaveLength(241);
    expect(rejection?.partitionKey).toBe('<b>k</b>');
  });

  it.each([
    ['200 × "€" (3 UTF-8 bytes each)', '€'.repeat(200)],
    ['"a" then 200 × "€"', `a${'€'.repeat(200)}`],
    ['300 × "é" (2 bytes each)', 'é'.repeat(300)],
    ['130 × "😀" (a surrogate pair each)', '😀'.repeat(130)],
  ])(
    'when the payload is %s, the preview is the payload, or its first 240 units and "…"',
    (_what, payload) => {
      const preview = payloadPreview(Buffer.from(payload, 'utf8').toString('base64'));
      let cut = 240;
      if ((payload.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut -= 1;
      expect(preview).toBe(payload.length > 240 ? `${payload.slice(0, cut)}…` : payload);
      expect(preview.includes('\uFFFD')).toBe(false);
    },
  );

  it('when rejected/ grows, only the newest objects keep their rejections (the ones the page can show)', async () => {
    const keep = 20;
    const objects: Record<string, string> = {};
    for (let o = 0; o < 200; o++)
      objects[`rejected/s/${String(o).padStart(5, '0')}.jsonl`] = Array.from({ length: 20 }, (_, i) =>
        line('OPERATOR_THREW', `operator toCents threw: ${'x'.repeat(500)}`, undefined, `${o}-${i}`),
      ).join('\n');
    const reader = new SummarizedObjects<RejectedSummary>(
      stubS3(objects, 1000).s3,
      'b',
      'rejected/s/',
      (text) => summarizeRejected(text, topology, keep),
      { newest: keep, slim: (summary) => ({ ...summary, recent: [] }) },
    );
    for (let read = 0; read < 2; read++) {
      const summaries = await reader.read();
      const merged = mergeRejected(summaries, keep);
      expect(merged.total).toBe(4_000);
      expect(merged.recent.map((r) => r.partitionKey)).toEqual(
        Array.from({ length: keep }, (_, i) => `199-${19 - i}`),
      );
      const held = summaries.reduce((n, o) => n + o.summary.recent.length, 0);
      expect(held).toBe(keep * keep);
    }
  });

  it('when objects are merged, counts add up and the newest rejections come first', () => {
    const object = (
      key: string,
      lastModified: number,
      details: string[],
    ): SummarizedObject<RejectedSummary> => ({
      key,
      etag: key,
      lastModified,
      summary: summarizeRejected(details.map((d) => line('SCHEMA_VIOLATION', d)).join('\n'), topology, 10),
    });
    const view = mergeRejected([object('b', 2_000, ['b1', 'b2']), object('a', 1_000, ['a1'])], 2);
    expect(view.total).toBe(3);
    expect(view.byStage).toEqual({ clean: 3 });
    expect(view.byReason).toEqual([{ reason: 'SCHEMA_VIOLATION', count: 3 }]);
    expect(view.recent.map((r) => r.detail)).toEqual(['b2', 'b1']);
  });
});
