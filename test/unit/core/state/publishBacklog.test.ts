/**
 * A close pass with more result rows than its stream takes at once (`.sink({ toStream })`): a backlog of
 * windows after an outage, into a one-shard stream (1,000 records a second). The publisher gives the stream
 * the time it needs while it takes part of each put, and the pass raises its marks after each run of about
 * `PUBLISH_ROWS_PER_MARK` rows, so a pass that fails midway keeps what it published.
 */
import { z } from 'zod';
import { count, pipeline, tumbling } from '../../../../functions/core';
import type { PublishEntry } from '../../../../functions/core/engine/streamTap';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { StreamPublisher, type StreamPutter } from '../../../../functions/core/state/streamPublisher';
import { PUBLISH_ROWS_PER_MARK } from '../../../../functions/core/state/WindowCloser';
import { jsonEncoder } from '../../../helpers/jsonEncoder';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1, 12);
const NOW = T0 + 86_400_000;
const Click = z.object({ id: z.string(), page: z.string(), ts: z.number() });

const minutes = pipeline('page-minutes')
  .source({ stream: 'clicks', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .keyBy((c) => c.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '1d', idleTimeout: '1d' })
  .aggregate({ clicks: count() })
  .sink({ table: 'page_minutes', toStream: 'minutes' });

/**
 * A one-shard stream on a simulated clock: 1,000 records a second, 30 ms a put; `outage` makes every put
 * throw once that many records have landed, until cleared.
 */
function oneShardStream() {
  const clock = { now: 0 };
  const taken = new Map<number, number>();
  const landed: string[] = [];
  const outage = { afterLanded: Infinity };
  const putter: StreamPutter = {
    putRecords: async (_stream, entries: readonly PublishEntry[]) => {
      if (landed.length >= outage.afterLanded) throw new Error('ServiceUnavailable');
      clock.now += 30;
      const second = Math.floor(clock.now / 1000);
      const room = Math.max(0, 1000 - (taken.get(second) ?? 0));
      taken.set(second, (taken.get(second) ?? 0) + Math.min(room, entries.length));
      for (const e of entries.slice(0, room)) landed.push((JSON.parse(e.data) as { id: string }).id);
      return entries.map((_, i) => i).filter((i) => i >= room);
    },
  };
  const publisher = new StreamPublisher(putter, 'minutes', {
    sleep: async (ms) => void (clock.now += ms),
  });
  return { publisher, landed, outage };
}

/** `windows` minute windows × `pages` pages, one click each, applied into a fresh processor. */
async function backlog(windows: number, pages: number, stream: ReturnType<typeof oneShardStream>) {
  const processor = new BatchProcessor({
    pipeline: minutes,
    store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
    objects: new InMemoryObjectStore(),
    encoder: jsonEncoder,
    clock: { now: () => NOW },
    resultPublisher: stream.publisher,
  });
  const records = Array.from({ length: windows * pages }, (_, n) =>
    rawRecord(
      { id: `c${n}`, page: `/p${n % pages}`, ts: T0 + Math.floor(n / pages) * 60_000 },
      { sequenceNumber: n + 1, approximateArrivalTimestamp: NOW },
    ),
  );
  for (let i = 0; i < records.length; i += 1000) await processor.apply(records.slice(i, i + 1000));
  return processor;
}

describe('publishing a backlog of result rows', () => {
  test('when 150 windows × 100 pages (15,000 rows) are due, one pass emits them all and puts each row once', async () => {
    const stream = oneShardStream();
    const processor = await backlog(150, 100, stream);
    const { windowsEmitted } = await processor.tick(Number.POSITIVE_INFINITY);
    expect(windowsEmitted).toBe(150);
    expect(stream.landed).toHaveLength(15_000);
    expect(new Set(stream.landed).size).toBe(15_000);
  }, 30_000);

  test('when the stream fails midway through a pass, the next pass publishes only the windows not yet marked emitted', async () => {
    const stream = oneShardStream();
    const processor = await backlog(30, 400, stream);
    // The first run of windows (13 × 400 = 5,200 rows ≥ PUBLISH_ROWS_PER_MARK) lands, and 1,000 rows of the
    // next; the stream then fails.
    const firstRun = Math.ceil(PUBLISH_ROWS_PER_MARK / 400) * 400;
    stream.outage.afterLanded = firstRun + 1_000;
    await expect(processor.tick(Number.POSITIVE_INFINITY)).rejects.toThrow();
    const landedBefore = new Set(stream.landed);
    expect(landedBefore.size).toBeGreaterThanOrEqual(firstRun + 1_000);
    stream.outage.afterLanded = Infinity;
    stream.landed.length = 0;
    const { windowsEmitted } = await processor.tick(Number.POSITIVE_INFINITY);
    expect(windowsEmitted).toBe(30 - firstRun / 400);
    // Nothing of the marked windows is put again; every row has landed once the pass is done.
    expect(stream.landed).toHaveLength(12_000 - firstRun);
    expect(new Set([...landedBefore, ...stream.landed]).size).toBe(12_000);
  }, 30_000);
});
