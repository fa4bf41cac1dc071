/**
 * A result row no Kinesis record can carry (over 1 MiB with its envelope and partition key) must not block the
 * close pass for ever: it is dead-lettered to `rejected-results/<table>/` with reason OVERSIZE_RECORD, counted, and the
 * window is marked emitted; its row stays in the result object, and every other row is published.
 */
import { z } from 'zod';
import { count, pipeline, session, topK, tumbling } from '../../../../functions/core';
import { MAX_PUBLISHED_RECORD_BYTES, type PublishEntry } from '../../../../functions/core/engine/streamTap';
import { ResultPublishing, type EmittedRow } from '../../../../functions/core/state/resultPublishing';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import type { ResultRow } from '../../../../functions/core/types';
import { jsonEncoder } from '../../../helpers/jsonEncoder';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1, 12);
const SHARD = 'shardId-000000000000';
const Click = z.object({ id: z.string(), page: z.string(), tag: z.string(), ts: z.number() });
const TIME = { allowedLateness: '0s', maxOutOfOrderness: '1h', idleTimeout: '1d' } as const;

const minutes = pipeline('tag-minutes')
  .source({ stream: 'clicks', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .keyBy((c) => c.page, 'page')
  .window(tumbling('1m'), TIME)
  .aggregate({ clicks: count(), tags: topK((c) => c.tag, 1000) })
  .sink({ table: 'tag_minutes', toStream: 'tag-minutes' });
const visits = pipeline('tag-visits')
  .source({ stream: 'clicks', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .keyBy((c) => c.page, 'page')
  .window(session('30s'), TIME)
  .aggregate({ clicks: count(), tags: topK((c) => c.tag, 1000) })
  .sink({ table: 'tag_visits', toStream: 'tag-visits' });

/** Page /big gets 1,000 distinct 1,200-character tags in one minute: its row is about 1.2 MB. */
const records = [
  ...Array.from({ length: 1000 }, (_, n) => ({
    id: `b${n}`,
    page: '/big',
    tag: `${String(n).padStart(4, '0')}${'x'.repeat(1196)}`,
    ts: T0 + (n % 20) * 1000,
  })),
  ...Array.from({ length: 6 }, (_, n) => ({ id: `s${n}`, page: '/small', tag: 't', ts: T0 + n * 1000 })),
].map((click, n) =>
  rawRecord(click, { shardId: SHARD, sequenceNumber: n + 1, approximateArrivalTimestamp: T0 + 3_600_000 }),
);

async function run(p: StatefulPipeline) {
  const objects = new InMemoryObjectStore();
  const puts: PublishEntry[] = [];
  const processor = new BatchProcessor({
    pipeline: p,
    store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
    objects,
    encoder: jsonEncoder,
    clock: { now: () => T0 + 3_600_000 },
    resultPublisher: {
      stream: p.spec.sink!.toStream!,
      publish: async (entries) => void puts.push(...entries),
    },
  });
  await processor.apply(records);
  const first = await processor.tick(Number.POSITIVE_INFINITY);
  const again = await processor.tick(Number.POSITIVE_INFINITY);
  const rows = [...objects.objects.keys()]
    .filter((key) => key.startsWith('results/'))
    .flatMap((key) => JSON.parse(objects.text(key) ?? '[]') as ResultRow[]);
  return { objects, puts, processor, first, again, rows };
}

describe('a result row over the Kinesis record limit (sink toStream)', () => {
  it.each([
    ['fixed windows', minutes],
    ['sessions', visits],
  ])(
    'with %s, the close pass dead-letters it to rejected-results/<table>/ with its reason, publishes the other rows and marks the window emitted',
    async (_kind, p) => {
      const table = p.spec.sink!.table;
      const { objects, puts, processor, first, again, rows } = await run(p);
      expect(first.windowsEmitted).toBeGreaterThan(0);
      // The window is emitted for good: the next tick finds nothing to emit and publishes nothing again.
      expect(again.windowsEmitted).toBe(0);
      // The table is complete: the big row is in its result object.
      const big = rows.find((row) => row['page'] === '/big');
      expect(big?.['clicks']).toBe(1000);
      const start = Number(big!['window_start']);
      const end = Number(big!['window_end']);
      // Only the small row is published.
      expect(puts.map((e) => (JSON.parse(e.data) as { id: string }).id)).toEqual(
        rows
          .filter((row) => row['page'] === '/small')
          .map((row) => `${table}/${Number(row['window_start'])}//small`),
      );
      // The big one is dead-lettered once, under the table's rejected-results/ prefix, in the window's
      // partition; nothing under rejected/, which holds rejected input records only.
      const keys = [...objects.objects.keys()].filter((key) => key.startsWith('rejected'));
      expect(keys).toEqual([
        expect.stringMatching(
          new RegExp(`^rejected-results/${table}/dt=2030-01-01/hour=12/result-[0-9a-f]{64}\\.jsonl$`),
        ),
      ]);
      const letters = objects.jsonLines(`rejected-results/${table}/`) as Record<string, unknown>[];
      expect(letters).toEqual([
        {
          reason: 'OVERSIZE_RECORD',
          detail: expect.stringMatching(
            new RegExp(
              `^The result row of key "/big" in window ${start} of table ${table} is \\d+ bytes with its envelope and partition key \\(a Kinesis record holds at most ${MAX_PUBLISHED_RECORD_BYTES}\\); its row is in the table, not in stream ${p.spec.sink!.toStream}$`,
            ),
          ),
          table,
          id: `${table}/${start}//big`,
          key: '/big',
          windowStart: start,
          windowEnd: end,
          partitionKey: '/big',
          data: expect.stringMatching(/^[A-Za-z0-9+/]+={0,2}$/),
        },
      ]);
      const data = Buffer.from(letters[0]!['data'] as string, 'base64').toString('utf8');
      expect(data.startsWith('{"page":"/big"')).toBe(true);
      expect((letters[0]!['data'] as string).length).toBe(8192);
      // Counted once: the metric the handlers publish (ResultsDeadLettered).
      expect(processor.resultsDeadLettered).toBe(1);
    },
  );
});

describe('dead-lettering many oversize result rows (ResultPublishing)', () => {
  /** `n` rows of about 1.1 MB each, in one window. */
  const oversize = (n: number): EmittedRow[] =>
    Array.from({ length: n }, (_, i) => ({
      key: `k${i}`,
      window: { start: T0, end: T0 + 60_000 },
      row: { page: `k${i}`, window_start: T0, window_end: T0 + 60_000, blob: 'x'.repeat(1_100_000) },
    }));
  const small: EmittedRow = {
    key: 'small',
    window: { start: T0, end: T0 + 60_000 },
    row: { page: 'small', window_start: T0, window_end: T0 + 60_000, blob: 'x' },
  };

  it('when a pass holds more of them than its concurrency, at most that many puts are in flight at once', async () => {
    let inFlight = 0;
    let most = 0;
    const keys: string[] = [];
    const objects = {
      putObject: async (key: string) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        keys.push(key);
        inFlight -= 1;
      },
    };
    const publishing = new ResultPublishing(
      objects,
      { stream: 'out', publish: async () => {} },
      'tag_minutes',
      3,
    );
    await publishing.publish(oversize(12));
    expect(keys).toHaveLength(12);
    expect(new Set(keys).size).toBe(12);
    expect(most).toBe(3);
    expect(publishing.deadLettered).toBe(12);
  });

  it('when the publish of the other rows fails, its letters are not counted; the pass run again counts them once', async () => {
    const objects = new InMemoryObjectStore();
    let refuse = true;
    const publishing = new ResultPublishing(
      objects,
      {
        stream: 'out',
        publish: async () => {
          if (refuse) throw new Error('refused');
        },
      },
      'tag_minutes',
      4,
    );
    await expect(publishing.publish([...oversize(2), small])).rejects.toThrow('refused');
    expect(publishing.deadLettered).toBe(0);
    refuse = false;
    await publishing.publish([...oversize(2), small]);
    expect(publishing.deadLettered).toBe(2);
    // The run again wrote the same two objects.
    expect([...objects.objects.keys()]).toHaveLength(2);
  });
});
