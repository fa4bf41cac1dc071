import {
  mergeRejected,
  rejectionStage,
  summarizeRejected,
  type RejectedSummary,
} from '../../../../localstack/console/rejectedRecords';
import type { SummarizedObject } from '../../../../localstack/start/bucketObjects';
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
