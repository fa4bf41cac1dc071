/**
 * A segment's TTL follows its newest window's close, not its commit: DynamoDB's TTL may delete an item any
 * time after its `ttl`, and a window that closes later than its first commit + the retention (a daily window
 * that takes a week of late data) must still find every commit's state when it closes.
 */
import { z } from 'zod';
import { count, pipeline, session, tumbling } from '../../../../functions/core/dsl';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { Duration } from '../../../../functions/core/duration';
import type { RawRecord, WindowSpec } from '../../../../functions/core/types';
import { jsonEncoder } from '../../../helpers/jsonEncoder';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 0, 1);
const Ev = z.object({ k: z.string(), t: z.number() });
const TIME = { maxOutOfOrderness: '0s', idleTimeout: '1h' } as const;

/** A count per key over `window`, taking `allowedLateness` of late data. */
const counting = (name: string, window: WindowSpec, allowedLateness: Duration) =>
  pipeline(name)
    .source({ stream: 's' })
    .clean({ schema: Ev, eventTime: (e) => e.t })
    .keyBy((e) => e.k, 'k')
    .window(window, { allowedLateness, ...TIME })
    .aggregate({ n: count() })
    .sink({ table: 't' });

const daily = counting('daily', tumbling('1d'), '7d');
const hourly = counting('hourly', tumbling('1h'), '0s');

let seq = 0;
const rec = (k: string, t: number): RawRecord => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: String(++seq),
  partitionKey: 'p',
  data: Buffer.from(JSON.stringify({ k, t })).toString('base64'),
  approximateArrivalTimestamp: t,
});

/** What DynamoDB's TTL may do at any time after an item's `ttl`: delete it. */
function expire(tables: InMemoryStateTables, now: number): number {
  let deleted = 0;
  for (const partition of tables.partitions.values())
    for (const [sk, item] of partition) {
      const ttl = item.ttl;
      if (ttl !== undefined && 'N' in ttl && Number(ttl.N) * 1000 < now) {
        partition.delete(sk);
        deleted++;
      }
    }
  return deleted;
}

function setup(definition: typeof daily) {
  const clock = { now: D0 };
  const tables = new InMemoryStateTables();
  const objects = new InMemoryObjectStore();
  const processor = new BatchProcessor({
    pipeline: definition,
    store: new InMemoryStateStore({ tables, segmentCacheBytes: 0 }),
    objects,
    encoder: jsonEncoder,
    clock: { now: () => clock.now },
  });
  const rows = () =>
    [...objects.objects.keys()]
      .filter((k) => k.startsWith('results/'))
      .flatMap(
        (k) => JSON.parse(objects.text(k) ?? '[]') as { k: string; window_start: number; n: number }[],
      );
  return { clock, tables, processor, rows };
}

describe('segment retention', () => {
  it('when a window closes more than the retention after its first commit, its early records still count', async () => {
    const { clock, tables, processor, rows } = setup(daily);
    await processor.apply([rec('a', D0 + 1), rec('a', D0 + 2), rec('a', D0 + 3)]);
    // Day 7.5: the window (closing at day 1 + 7 days) is still open; DynamoDB's TTL has run.
    clock.now = D0 + 7.5 * DAY;
    expire(tables, clock.now);
    clock.now = D0 + 8.5 * DAY;
    await processor.apply([rec('b', clock.now)]);
    expect(rows().filter((r) => r.window_start === D0)).toEqual([expect.objectContaining({ k: 'a', n: 3 })]);
  });

  it('when a commit holds only an older window than the commit before, its segment expires no sooner (TTLs rise with commits)', async () => {
    const { clock, tables, processor } = setup(daily);
    clock.now = D0 + DAY + 1;
    // Commit 1: today's window (closes a day later than yesterday's). Commit 2: only yesterday's, still open.
    await processor.apply([rec('a', D0 + DAY + 1)]);
    await processor.apply([rec('a', D0 + 1)]);
    const ttls = [...(tables.partitions.get('C#daily#shardId-000000000000')?.entries() ?? [])]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, item]) => Number((item.ttl as { N: string }).N));
    expect(ttls).toHaveLength(2);
    expect(ttls[1]).toBeGreaterThanOrEqual(ttls[0]!);
  });

  it('when windows are short, a segment expires the retention after its window closes', async () => {
    const { tables, processor, rows } = setup(hourly);
    await processor.apply([rec('a', D0 + 1), rec('a', D0 + 2)]);
    await processor.apply([rec('a', D0 + 2 * 3_600_000)]);
    expect(rows()).toEqual([expect.objectContaining({ k: 'a', window_start: D0, n: 2 })]);
    // Each commit's segment goes 7 days (the default retention) after its window's end: the clock stood at
    // D0, so not after the commit.
    expect(expire(tables, D0 + 7 * DAY + 3_600_000 - 1_000)).toBe(0);
    expect(expire(tables, D0 + 7 * DAY + 3_600_000 + 1_000)).toBe(1);
    expect(expire(tables, D0 + 7 * DAY + 3 * 3_600_000 - 1_000)).toBe(0);
    expect(expire(tables, D0 + 7 * DAY + 3 * 3_600_000 + 1_000)).toBe(1);
  });

  it('when a session closes more than the retention after its commit (a long gap and lateness), its record still counts', async () => {
    const { clock, tables, processor, rows } = setup(counting('sessions', session('2d'), '6d'));
    await processor.apply([rec('a', D0 + 1)]);
    clock.now = D0 + 7.5 * DAY;
    expire(tables, clock.now);
    clock.now = D0 + 9 * DAY;
    await processor.apply([rec('b', clock.now)]);
    await processor.tick(Number.POSITIVE_INFINITY);
    expect(rows().filter((r) => r.k === 'a')).toEqual([expect.objectContaining({ n: 1 })]);
  });
});
