/**
 * The id of each value a record yields (`elementId`): the keyed dedupe counts a value once per id, and a
 * downstream pipeline dedupes published values by it, so no two distinct values may share one — whatever
 * ids producers choose (`order#1` is not the second value of `order`; `sha256:<hex>` is not a digest).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { z } from 'zod';
import { count, pipeline, runBounded, tumbling } from '../../../../functions/core';
import { elementId } from '../../../../functions/core/engine/elementId';
import { publishedId } from '../../../../functions/core/engine/streamTap';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1, 12);
const Order = z.object({ id: z.string(), items: z.array(z.string()), ts: z.number() });
const at = (sequenceNumber: number) => ({ sequenceNumber, approximateArrivalTimestamp: T0 });

/** Counts order items per hour, one key: a value is counted once per element id. */
const itemCounts = pipeline('item-counts')
  .source({ stream: 'orders', shards: 1 })
  .clean({ schema: Order, eventTime: (o) => o.ts, dedupeBy: (o) => o.id })
  .flatMap((o) => o.items.map((item) => ({ order: o.id, item })))
  .keyBy(() => 'all', 'k')
  .window(tumbling('1h'), { allowedLateness: '0s', maxOutOfOrderness: '1h', idleTimeout: '1d' })
  .aggregate({ items: count() })
  .sink({ table: 'item_counts' });

/** Publishes one value per order item. */
const publishedItems = pipeline('order-items')
  .source({ stream: 'orders', shards: 1 })
  .clean({ schema: Order, eventTime: (o) => o.ts, dedupeBy: (o) => o.id })
  .flatMap((o) => o.items.map((item) => ({ order: o.id, item })))
  .toStream('items', { partitionKey: () => 'p' });

const origin = (dedupeId: string, ordinal: number) => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: '1',
  subSequenceNumber: undefined,
  dedupeId,
  ordinal,
});

describe('elementId', () => {
  test('when one order has two items and another order is named "order#1", the keyed dedupe counts all three items', async () => {
    const result = await runBounded(itemCounts, [
      rawRecord({ id: 'order', items: ['a', 'b'], ts: T0 }, at(1)),
      rawRecord({ id: 'order#1', items: ['c'], ts: T0 + 1 }, at(2)),
      // A producer's duplicate of the first order is still one.
      rawRecord({ id: 'order', items: ['a', 'b'], ts: T0 + 2 }, at(3)),
    ]);
    expect(result.rows.map((r) => r['items'])).toEqual([3]);
  });

  test("when ids look like other values' ids or like digests, every published value has its own id", async () => {
    const longId = 'x'.repeat(300);
    const forged = `sha256:${createHash('sha256').update(longId).digest('hex')}`;
    const result = await runBounded(publishedItems, [
      rawRecord({ id: 'order', items: ['a', 'b'], ts: T0 }, at(1)),
      rawRecord({ id: 'order#1', items: ['c'], ts: T0 }, at(2)),
      rawRecord({ id: 'order\u00001', items: ['d'], ts: T0 }, at(3)),
      rawRecord({ id: forged, items: ['e'], ts: T0 }, at(4)),
      rawRecord({ id: longId, items: ['f'], ts: T0 }, at(5)),
    ]);
    const ids = result.published.map((e) => (JSON.parse(e.data) as { id: string }).id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
  });

  test('is one-to-one over ids and ordinals, and keeps every id without a NUL as it is for the first value', () => {
    const ids = fc.string({
      unit: fc.constantFrom('a', '#', '%', '2', '3', '1', '\u0000', 'sha256:'),
      maxLength: 8,
    });
    fc.assert(
      fc.property(ids, fc.nat(3), ids, fc.nat(3), (a, n, b, m) => {
        if (a !== b || n !== m) {
          expect(elementId(a, n)).not.toBe(elementId(b, m));
          expect(publishedId(origin(a, n))).not.toBe(publishedId(origin(b, m)));
        }
      }),
      { numRuns: 20_000 },
    );
    // Ids as earlier releases stored them, for every first value of an id without a NUL.
    expect(elementId('2f1c-uuid', 0)).toBe('2f1c-uuid');
    expect(elementId('USER#42', 0)).toBe('USER#42');
    expect(elementId('50%', 0)).toBe('50%');
    expect(elementId('2f1c-uuid', 2)).toBe('2f1c-uuid\u00002');
    expect(elementId('a\u0000b', 0)).toBe('a\u0000\u0000b');
  });
});
