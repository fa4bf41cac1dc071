/**
 * A change-data-capture pipeline over an `orders` table, shared by the table-source tests: revenue per
 * region per minute of change time, where an insert adds the new amount, an update the delta new − old,
 * and a delete subtracts the old amount.
 */
import { z } from 'zod';
import { count, pipeline, sum, tumbling } from '../../functions/core/dsl';

export const Order = z.object({ orderId: z.string(), region: z.string(), amount: z.number() });
export type Order = z.infer<typeof Order>;

export const OrderChange = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  keys: z.object({ orderId: z.string() }),
  newImage: Order.optional(),
  oldImage: Order.optional(),
  eventTime: z.number(),
});
export type OrderChange = z.infer<typeof OrderChange>;

/** What a change adds to its region's revenue. */
export function revenueDelta(change: OrderChange): number {
  return (change.newImage?.amount ?? 0) - (change.oldImage?.amount ?? 0);
}

export const orderRevenue = (table = 'orders') =>
  pipeline('order-revenue')
    .fromTable(table, { view: 'NEW_AND_OLD_IMAGES' })
    .clean({ schema: OrderChange, eventTime: (c) => c.eventTime })
    .map((c) => ({ region: (c.newImage ?? c.oldImage)?.region ?? 'unknown', delta: revenueDelta(c) }))
    .keyBy((r) => r.region, 'region')
    .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s', idleTimeout: '1s' })
    .aggregate({ revenue: sum((r) => r.delta), changes: count() })
    .sink({ table: 'order_revenue_minutely' });
