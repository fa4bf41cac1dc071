/**
 * The change-data-capture example: the `orders` table's changes → revenue and open orders per status per
 * minute. Each change takes its old image out of its status and puts its new image in: an insert adds the
 * order's amount (and one order) to its status, an update moves the amount from the old status to the new one
 * (or adds the difference when the status stays), a delete takes the amount and the order away. So the rows
 * of a status, summed over every minute, are what the table holds in that status (for a table read from its
 * creation), and each minute's row is how much that status gained or lost in that minute of change time.
 *
 * npx shardflow run functions/pipelines/orders/orderRevenue.ts --input functions/pipelines/orders/orders.changes.jsonl
 */
import * as z from 'zod/mini';
import { pipeline, sum, tumbling } from '../../core/dsl';

/** The key of the `orders` table: the example app (and `shardflow run`) create the table with it. */
export const sourceTable = { partitionKey: { name: 'orderId', type: 'S' } } as const;

const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'refunded'] as const;

/** An item of the `orders` table; `amount` in cents (whole numbers add up exactly). */
const Order = z.object({
  orderId: z.string().check(z.minLength(1), z.maxLength(128)),
  status: z.enum(ORDER_STATUSES),
  amount: z.int().check(z.nonnegative()),
});
type Order = z.infer<typeof Order>;

/** A change of the `orders` table (`TableChange`), images checked: a change with a bad image is rejected. */
const OrderChange = z.compile(
  z.object({
    eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
    keys: z.object({ orderId: z.string() }),
    newImage: z.optional(Order),
    oldImage: z.optional(Order),
    eventTime: z.number(),
  }),
);

/** What one image contributes to its status: `sign` +1 for the new image, −1 for the old one. */
const contribution = (order: Order, sign: 1 | -1) => ({
  status: order.status,
  revenue: sign * order.amount,
  orders: sign,
});

export default pipeline('order-revenue')
  .fromTable('orders', { view: 'NEW_AND_OLD_IMAGES' })
  .clean({ schema: OrderChange, eventTime: (c) => c.eventTime })
  .flatMap((c) => [
    ...(c.oldImage === undefined ? [] : [contribution(c.oldImage, -1)]),
    ...(c.newImage === undefined ? [] : [contribution(c.newImage, 1)]),
  ])
  .keyBy((r) => r.status, 'status')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '5s', idleTimeout: '1m' })
  .aggregate({ revenue_cents: sum((r) => r.revenue), orders: sum((r) => r.orders) })
  .sink({ table: 'order_revenue_by_status' });
