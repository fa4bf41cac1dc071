/**
 * The CDC example's rule, on the engine in memory: each change takes its old image out of its status and puts
 * its new image in (revenue in cents and the number of orders), per status and minute of change time.
 */
import orderRevenue, { sourceTable } from '../../../functions/pipelines/orders/orderRevenue';
import { rawRecord } from '../../helpers/records';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const order = (status: string, amount: number) => ({ orderId: 'o1', status, amount });

/** Rows by `<status>@<minute>`: revenue_cents and orders. */
function rows(changes: readonly object[]): { rows: Record<string, [unknown, unknown]>; rejected: number } {
  const prepared = orderRevenue.prepare(
    changes.map((c, i) => rawRecord(c, { sequenceNumber: i + 1 })),
    { closedWatermark: -Infinity },
  );
  const out: Record<string, [unknown, unknown]> = {};
  for (const p of orderRevenue.combine(prepared, () => undefined)) {
    const row = orderRevenue.resultRow(p.key, p.window, p.state, p.records);
    out[`${String(row.status)}@${(p.window.start - T0) / 60_000}`] = [row.revenue_cents, row.orders];
  }
  return { rows: out, rejected: prepared.rejected.length };
}

describe('order-revenue (the CDC example)', () => {
  it('when its spec is read, it reads the orders table with both images, keyed by status per minute', () => {
    expect(orderRevenue.spec).toMatchObject({
      name: 'order-revenue',
      source: { stream: 'orders', table: { view: 'NEW_AND_OLD_IMAGES' } },
      window: { kind: 'tumbling', sizeMs: 60_000 },
      sink: { table: 'order_revenue_by_status' },
    });
    expect(orderRevenue.spec.columns.map((c) => c.name)).toEqual([
      'status',
      'window_start',
      'window_end',
      'revenue_cents',
      'orders',
      'evolved_columns',
    ]);
    expect(sourceTable).toEqual({ partitionKey: { name: 'orderId', type: 'S' } });
  });

  it('when an order is inserted, moved to another status with a new amount, then deleted, each status gains and loses what the images say', () => {
    const keys = { orderId: 'o1' };
    expect(
      rows([
        { eventName: 'INSERT', keys, newImage: order('paid', 1000), eventTime: T0 + 1_000 },
        {
          eventName: 'MODIFY',
          keys,
          oldImage: order('paid', 1000),
          newImage: order('shipped', 1200),
          eventTime: T0 + 2_000,
        },
        {
          eventName: 'MODIFY',
          keys,
          oldImage: order('shipped', 1200),
          newImage: order('shipped', 1500),
          eventTime: T0 + 3_000,
        },
        { eventName: 'REMOVE', keys, oldImage: order('shipped', 1500), eventTime: T0 + 61_000 },
      ]),
    ).toEqual({
      rows: { 'paid@0': [0, 0], 'shipped@0': [1500, 1], 'shipped@1': [-1500, -1] },
      rejected: 0,
    });
  });

  it('when an image is not an order (negative or fractional cents, unknown status), the whole change is rejected', () => {
    const keys = { orderId: 'o1' };
    expect(
      rows([
        { eventName: 'INSERT', keys, newImage: order('paid', -5), eventTime: T0 },
        { eventName: 'INSERT', keys, newImage: order('paid', 10.5), eventTime: T0 },
        { eventName: 'INSERT', keys, newImage: order('lost', 10), eventTime: T0 },
        {
          eventName: 'MODIFY',
          keys,
          oldImage: order('lost', 10),
          newImage: order('paid', 10),
          eventTime: T0,
        },
      ]),
    ).toEqual({ rows: {}, rejected: 4 });
  });
});
