import { z } from 'zod';
import { count, pipeline, tumbling, type PublishedRecord } from '../../../../functions/core/dsl';
import {
  MAX_PUBLISHED_RECORD_BYTES,
  publishedId,
  publishEntry,
} from '../../../../functions/core/engine/streamTap';
import { REJECT_REASONS } from '../../../../functions/core/types';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1);
const Click = z.object({ id: z.string(), page: z.string(), ts: z.number(), tags: z.array(z.string()) });
type Click = z.infer<typeof Click>;

function tapping(options: { dedupe?: boolean; partitionKey?: (c: Click & { tag: string }) => string } = {}) {
  return pipeline('clicks')
    .source({ stream: 'clickstream' })
    .clean({
      schema: Click,
      eventTime: (c) => c.ts,
      ...(options.dedupe === true ? { dedupeBy: (c: Click) => c.id } : {}),
    })
    .flatMap((c) => c.tags.map((tag) => ({ ...c, tag })))
    .toStream('tagged', { partitionKey: options.partitionKey ?? ((c) => c.page) })
    .keyBy((c) => c.tag, 'tag')
    .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
    .aggregate({ n: count() })
    .sink({ table: 'tags' });
}

const click = (id: string, tags: string[], page = '/a'): Click => ({ id, page, ts: T0 - 1000, tags });
const decoded = (data: string): PublishedRecord<Click & { tag: string }> =>
  JSON.parse(data) as PublishedRecord<Click & { tag: string }>;

describe('publishedId', () => {
  it('when the upstream has no dedupeBy, the id is the record position and the value index', () => {
    const at = { shardId: 'shardId-000000000001', sequenceNumber: '4950', subSequenceNumber: undefined };
    expect(publishedId({ ...at, dedupeId: undefined, ordinal: 0 })).toBe('shardId-000000000001/4950');
    expect(publishedId({ ...at, dedupeId: undefined, ordinal: 2 })).toBe('shardId-000000000001/4950#2');
    expect(publishedId({ ...at, subSequenceNumber: 3, dedupeId: undefined, ordinal: 1 })).toBe(
      'shardId-000000000001/4950/3#1',
    );
  });

  it('when the upstream has dedupeBy, the id is the dedupe id, so a producer duplicate gets the same one', () => {
    const a = { shardId: 's1', sequenceNumber: '1', subSequenceNumber: undefined, dedupeId: 'evt-1' };
    const b = { shardId: 's2', sequenceNumber: '99', subSequenceNumber: undefined, dedupeId: 'evt-1' };
    expect(publishedId({ ...a, ordinal: 0 })).toBe('evt-1');
    expect(publishedId({ ...b, ordinal: 0 })).toBe(publishedId({ ...a, ordinal: 0 }));
    expect(publishedId({ ...a, ordinal: 1 })).toBe('evt-1\u00001');
  });

  it('when an id would be over 200 characters, it is a digest of it, the same each time', () => {
    const long = {
      shardId: 's',
      sequenceNumber: '1',
      subSequenceNumber: undefined,
      dedupeId: 'x'.repeat(1000),
    };
    const id = publishedId({ ...long, ordinal: 0 });
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(publishedId({ ...long, ordinal: 0 })).toBe(id);
    expect(publishedId({ ...long, ordinal: 1 })).not.toBe(id);
  });
});

describe('publishEntry', () => {
  it('when a value is JSON, the entry is the envelope under the partition key', () => {
    expect(publishEntry('id-1', T0, { a: 1 }, 'k')).toEqual({
      partitionKey: 'k',
      data: JSON.stringify({ id: 'id-1', time: T0, value: { a: 1 } }),
    });
  });

  it('when a value is not JSON or too large, it says why', () => {
    expect(publishEntry('i', T0, { n: 1n }, 'k')).toEqual({
      problem: expect.stringMatching(/^is not JSON \(.*BigInt/) as unknown as string,
      oversize: false,
    });
    expect(publishEntry('i', T0, () => 1, 'k')).toEqual({
      problem: 'is not JSON (no JSON value)',
      oversize: false,
    });
    const big = 'x'.repeat(MAX_PUBLISHED_RECORD_BYTES);
    expect(publishEntry('i', T0, big, 'k')).toMatchObject({ oversize: true });
  });
});

describe('prepare with toStream', () => {
  it('when records fan out, every value of a record not rejected is published in order with its position id', () => {
    const prepared = tapping().prepare(
      [
        rawRecord(click('e1', ['x', 'y']), { sequenceNumber: 10, shardId: 's0' }),
        rawRecord({ bad: true }, { sequenceNumber: 11, shardId: 's0' }),
        rawRecord(click('e2', ['z'], '/b'), { sequenceNumber: 12, shardId: 's0' }),
      ],
      { closedWatermark: -Infinity },
    );
    expect(prepared.published.map((p) => ({ key: p.partitionKey, ...decoded(p.data) }))).toEqual([
      { key: '/a', id: 's0/10', time: T0 - 1000, value: { ...click('e1', ['x', 'y']), tag: 'x' } },
      { key: '/a', id: 's0/10#1', time: T0 - 1000, value: { ...click('e1', ['x', 'y']), tag: 'y' } },
      { key: '/b', id: 's0/12', time: T0 - 1000, value: { ...click('e2', ['z'], '/b'), tag: 'z' } },
    ]);
    expect(prepared.rejected.map((r) => r.sequenceNumber)).toEqual(['11']);
  });

  it('when the upstream dedupes, ids are its dedupe ids, numbered by fan-out', () => {
    const prepared = tapping({ dedupe: true }).prepare(
      [rawRecord(click('e1', ['x', 'y']), { sequenceNumber: 10 })],
      { closedWatermark: -Infinity },
    );
    expect(prepared.published.map((p) => decoded(p.data).id)).toEqual(['e1', 'e1\u00001']);
  });

  it('when a value of a record cannot be published, the whole record is rejected and none of its values published', () => {
    const pipe = tapping({ partitionKey: (c) => (c.tag === 'bad' ? '' : c.page) });
    const prepared = pipe.prepare(
      [
        rawRecord(click('e1', ['x', 'bad']), { sequenceNumber: 1 }),
        rawRecord(click('e2', ['y']), { sequenceNumber: 2 }),
      ],
      { closedWatermark: -Infinity },
    );
    expect(prepared.published.map((p) => decoded(p.data).value.tag)).toEqual(['y']);
    expect(prepared.rejected).toEqual([
      expect.objectContaining({
        reason: REJECT_REASONS.INVALID_KEY,
        sequenceNumber: '1',
        detail: 'toStream partitionKey returned "", which is not a non-empty string',
      }),
    ]);
    expect(prepared.groups.map((g) => g.key)).toEqual(['y']);
  });

  it('when partitionKey throws or the value is too big for a Kinesis record, the record is rejected with the reason', () => {
    const throwing = tapping({
      partitionKey: () => {
        throw new Error('no key');
      },
    }).prepare([rawRecord(click('e1', ['x']))], { closedWatermark: -Infinity });
    expect(throwing.rejected[0]).toMatchObject({
      reason: REJECT_REASONS.OPERATOR_THREW,
      detail: 'toStream partitionKey threw: Error: no key',
    });
    const huge = tapping().prepare([rawRecord(click('e1', ['x'.repeat(600_000), 'y'.repeat(500_000)]))], {
      closedWatermark: -Infinity,
    });
    expect(huge.published).toEqual([]);
    expect(huge.rejected[0]).toMatchObject({ reason: REJECT_REASONS.OVERSIZE_RECORD });
  });

  it('when a value is late for the upstream windows, it is still published (the tap is before keyBy)', () => {
    const prepared = tapping().prepare([rawRecord(click('e1', ['x']))], { closedWatermark: T0 });
    expect(prepared.late).toHaveLength(1);
    expect(prepared.published).toHaveLength(1);
  });

  it('when a pipeline has no toStream, nothing is published', () => {
    const plain = pipeline('plain')
      .source({ stream: 's' })
      .clean({ schema: Click, eventTime: (c) => c.ts })
      .keyBy((c) => c.page)
      .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
      .aggregate({ n: count() })
      .sink({ table: 't' });
    expect(plain.prepare([rawRecord(click('e1', ['x']))], { closedWatermark: -Infinity }).published).toEqual(
      [],
    );
  });
});
