import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../functions/core/dsl';
import { PipelineDefinitionError } from '../../../functions/core/errors';
import { missingImage } from '../../../functions/core/tableChange';
import { encodeJson, rawRecord } from '../../helpers/records';
import { orderRevenue } from '../../helpers/orderRevenue';

const T0 = Date.UTC(2026, 0, 1);
const NONE = { closedWatermark: -Infinity };
const change = (seq: string, body: Record<string, unknown>) =>
  rawRecord(body, { shardId: 'shardId-1', sequenceNumber: seq, approximateArrivalTimestamp: T0 + 60_000 });

describe('table source (change data capture)', () => {
  it('when a pipeline reads a table, its spec names the table and its view; Kinesis sources are unchanged', () => {
    expect(orderRevenue().spec.source).toEqual({ stream: 'orders', table: { view: 'NEW_AND_OLD_IMAGES' } });
    const keysOnly = pipeline('k')
      .fromTable('orders.v2', { view: 'KEYS_ONLY' })
      .clean({ schema: z.object({ eventTime: z.number() }), eventTime: (c) => c.eventTime })
      .keyBy(() => 'all')
      .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
      .aggregate({ n: count() })
      .sink({ table: 't' });
    expect(keysOnly.spec.source).toEqual({ stream: 'orders.v2', table: { view: 'KEYS_ONLY' } });
    expect(pipeline('d').fromTable('orders')).toBeDefined();
  });

  it('when the table name or view is not DynamoDB’s, or fromTable is not first, the definition fails naming it', () => {
    expect(() => pipeline('p').fromTable('ab')).toThrow(/table name must be 3\.\.128 characters.*"ab"/);
    expect(() => pipeline('p').fromTable('a/b c')).toThrow(PipelineDefinitionError);
    expect(() => pipeline('p').fromTable('orders', { view: 'ALL' as never })).toThrow(
      /view must be one of KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES \(given "ALL"\)/,
    );
    expect(() => pipeline('p').source({ stream: 's' }).fromTable('orders')).toThrow(
      /fromTable\(\) is out of order/,
    );
    expect(() => pipeline('p').fromTable('orders').source({ stream: 's' })).toThrow(
      /source\(\) is out of order/,
    );
  });

  it('an image is missing exactly when the view carries it for that kind of change', () => {
    expect(missingImage('INSERT', 'NEW_AND_OLD_IMAGES', true, false)).toBeUndefined();
    expect(missingImage('REMOVE', 'NEW_AND_OLD_IMAGES', false, true)).toBeUndefined();
    expect(missingImage('MODIFY', 'NEW_AND_OLD_IMAGES', true, false)).toMatch(/MODIFY without OldImage/);
    expect(missingImage('INSERT', 'NEW_IMAGE', false, false)).toMatch(/INSERT without NewImage/);
    expect(missingImage('REMOVE', 'NEW_IMAGE', false, false)).toBeUndefined();
    expect(missingImage('REMOVE', 'OLD_IMAGE', false, false)).toMatch(/REMOVE without OldImage/);
    expect(missingImage('MODIFY', 'KEYS_ONLY', false, false)).toBeUndefined();
  });

  it('when changes reach clean, inserts, updates and deletes aggregate as deltas; a record the edge rejected goes to rejected/ with its reason', () => {
    const order = (amount: number) => ({ orderId: 'o1', region: 'eu', amount });
    const prepared = orderRevenue().prepare(
      [
        change('100', {
          eventName: 'INSERT',
          keys: { orderId: 'o1' },
          newImage: order(10),
          eventTime: T0 + 1,
        }),
        change('200', {
          eventName: 'MODIFY',
          keys: { orderId: 'o1' },
          newImage: order(25),
          oldImage: order(10),
          eventTime: T0 + 2,
        }),
        {
          ...change('300', {}),
          data: encodeJson({ raw: 'x' }),
          rejection: {
            reason: 'INVALID_CHANGE_RECORD',
            detail: 'MODIFY without OldImage on a NEW_AND_OLD_IMAGES stream',
          },
        },
        change('400', {
          eventName: 'REMOVE',
          keys: { orderId: 'o1' },
          oldImage: order(25),
          eventTime: T0 + 3,
        }),
      ],
      NONE,
    );
    expect(prepared.rejected.map((r) => [r.sequenceNumber, r.reason, r.detail])).toEqual([
      ['300', 'INVALID_CHANGE_RECORD', 'MODIFY without OldImage on a NEW_AND_OLD_IMAGES stream'],
    ]);
    expect(prepared.cleaned.map((c) => c.sequenceNumber)).toEqual(['100', '200', '400']);
    expect(prepared.shards['shardId-1']!.records).toBe(4);
    const p = orderRevenue();
    const [partial] = orderRevenue().combine(prepared, () => undefined);
    const row = p.resultRow(partial!.key, partial!.window, partial!.state, partial!.records);
    // +10, then +15 (25 − 10), then −25: the region's revenue is back to 0 after three changes.
    expect(row).toMatchObject({ region: 'eu', window_start: T0, revenue: 0, changes: 3 });
  });

  it('when a table pipeline cleans a change of more than 1 MiB, it is not rejected downstream: the payload limit is the largest change, not Kinesis’ record', () => {
    const blob = Buffer.alloc(390 * 1024, 7).toString('base64');
    const order = { orderId: 'o1', region: 'eu', amount: 10, blob };
    const change = {
      eventName: 'MODIFY',
      keys: { orderId: 'o1' },
      newImage: order,
      oldImage: order,
      eventTime: T0,
    };
    const data = Buffer.from(JSON.stringify(change), 'utf8').toString('base64');
    const raw = {
      shardId: 'shardId-1',
      sequenceNumber: '100',
      partitionKey: 'o1',
      data,
      approximateArrivalTimestamp: T0,
    };
    const prepared = orderRevenue().prepare([raw], NONE);
    expect(prepared.rejected).toEqual([]);
    expect(prepared.cleaned).toHaveLength(1);
  });
});
