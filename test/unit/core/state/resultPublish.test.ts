import { z } from 'zod';
import { count, pipeline, runBounded, session, sum, tumbling } from '../../../../functions/core';
import { resultEntry, type PublishEntry } from '../../../../functions/core/engine/streamTap';
import { InvalidOptionError } from '../../../../functions/core/errors';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type {
  PipelineMarks,
  PipelineProgress,
  StatefulPipeline,
} from '../../../../functions/core/state/types';
import type { ResultRow } from '../../../../functions/core/types';
import { jsonEncoder } from '../../../helpers/jsonEncoder';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1, 12);
const SHARD = 'shardId-000000000000';
const Click = z.object({ id: z.string(), page: z.string(), ts: z.number(), ms: z.number() });
/** Nothing closes before the end-of-input tick. */
const TIME = { allowedLateness: '0s', maxOutOfOrderness: '1h', idleTimeout: '1d' } as const;

const minutes = pipeline('page-minutes')
  .source({ stream: 'clicks', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .keyBy((c) => c.page, 'page')
  .window(tumbling('1m'), TIME)
  .aggregate({ clicks: count(), time_ms: sum((c) => c.ms) })
  .sink({ table: 'page_minutes', toStream: 'minutes' });
const visits = pipeline('page-visits')
  .source({ stream: 'clicks', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .keyBy((c) => c.page, 'page')
  .window(session('30s'), TIME)
  .aggregate({ clicks: count() })
  .sink({ table: 'page_visits', toStream: 'visits' });

const records = Array.from({ length: 30 }, (_, n) =>
  rawRecord(
    { id: `c${n}`, page: `/p${n % 3}`, ts: T0 + n * 7000 + (n >= 15 ? 120_000 : 0), ms: n },
    { shardId: SHARD, sequenceNumber: n + 1, approximateArrivalTimestamp: T0 + 3_600_000 },
  ),
);

/** A state store whose first raise of the emitted marks dies (after the close pass wrote its objects). */
class DiesBeforeEmittedMark extends InMemoryStateStore {
  public died = 0;
  public override async raisePipeline(name: string, marks: PipelineMarks): Promise<PipelineProgress> {
    if (marks.emittedThrough !== undefined && this.died === 0) {
      this.died += 1;
      throw new Error('injected: the close pass died before raising the emitted mark');
    }
    return super.raisePipeline(name, marks);
  }
}

async function dieThenRetry(p: StatefulPipeline) {
  const stream = p.spec.sink!.toStream!;
  const tables = new InMemoryStateTables();
  const store = new DiesBeforeEmittedMark({ tables });
  const objects = new InMemoryObjectStore();
  const puts: PublishEntry[][] = [];
  const processor = () =>
    new BatchProcessor({
      pipeline: p,
      store,
      objects,
      encoder: jsonEncoder,
      clock: { now: () => T0 + 3_600_000 },
      resultPublisher: { stream, publish: async (entries) => void puts.push([...entries]) },
    });
  await processor().apply(records);
  await expect(processor().tick(Number.POSITIVE_INFINITY)).rejects.toThrow('injected');
  const objectsAfterDeath = [...objects.objects.keys()].filter((k) => k.startsWith('results/')).sort();
  await processor().tick(Number.POSITIVE_INFINITY);
  const rows = [...objects.objects.keys()]
    .filter((key) => key.startsWith('results/'))
    .flatMap((key) => JSON.parse(objects.text(key) ?? '[]') as ResultRow[]);
  return { puts, rows, objectsAfterDeath, died: store.died, processor };
}

const ids = (entries: readonly PublishEntry[]) =>
  entries.map((e) => (JSON.parse(e.data) as { id: string }).id).sort();

describe('close pass publishing result rows (sink toStream)', () => {
  it.each([
    ['fixed windows', minutes, 'page_minutes'],
    ['sessions', visits, 'page_visits'],
  ])(
    'with %s, a close pass that dies after writing its objects and before raising the emitted mark publishes again under the same ids, each row once per pass',
    async (_kind, p, table) => {
      const { puts, rows, objectsAfterDeath, died } = await dieThenRetry(p);
      expect(died).toBe(1);
      expect(objectsAfterDeath.length).toBeGreaterThan(0);
      // The dying pass published every row it wrote; the retried pass publishes the same rows under the same ids.
      expect(puts).toHaveLength(2);
      expect(ids(puts[0]!)).toEqual(ids(puts[1]!));
      expect(new Set(ids(puts[1]!)).size).toBe(rows.length);
      const expected = rows
        .map((row) => ({
          id: `${table}/${Number(row['window_start'])}/${String(row['page'])}`,
          partitionKey: row['page'],
          time: Number(row['window_start']),
          value: row,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const published = puts[1]!
        .map((e) => ({
          partitionKey: e.partitionKey,
          ...(JSON.parse(e.data) as { id: string; time: number; value: ResultRow }),
        }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(published).toEqual(expected);
      // Every record is in exactly one published row.
      const total = published.reduce((n, e) => n + Number(e.value['clicks']), 0);
      expect(total).toBe(records.length);
    },
  );

  it.each([
    ['fixed windows', minutes],
    ['sessions', visits],
  ])('with %s, when a later tick finds nothing new to emit, it publishes nothing again', async (_kind, p) => {
    const { puts, processor } = await dieThenRetry(p);
    await processor().tick(Number.POSITIVE_INFINITY);
    expect(puts).toHaveLength(2);
  });

  it('when the result publisher is missing or names another stream, the processor refuses to start', () => {
    const deps = {
      pipeline: minutes,
      store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
      objects: new InMemoryObjectStore(),
      encoder: jsonEncoder,
      clock: { now: () => T0 },
    };
    expect(() => new BatchProcessor(deps)).toThrow(
      new InvalidOptionError(
        'Pipeline page-minutes publishes its results to stream minutes (sink toStream): give a result publisher for that stream (given none)',
      ),
    );
    expect(
      () =>
        new BatchProcessor({
          ...deps,
          resultPublisher: { stream: 'hours', publish: async () => undefined },
        }),
    ).toThrow(InvalidOptionError);
  });

  it('when a key is long, the id is a digest and the partition key the key digest; bigints become numbers or strings', () => {
    const key = 'k'.repeat(300);
    const entry = resultEntry('t', key, { start: T0, end: T0 + 60_000 }, {
      page: key,
      small: 5n,
      big: 2n ** 60n,
    } as ResultRow);
    if ('problem' in entry) throw new Error(entry.problem);
    const data = JSON.parse(entry.data) as { id: string; time: number; value: Record<string, unknown> };
    expect(data.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(entry.partitionKey).toMatch(/^[0-9a-f]{64}$/);
    expect(data.time).toBe(T0);
    expect(data.value).toEqual({ page: key, small: 5, big: (2n ** 60n).toString() });
    const again = resultEntry('t', key, { start: T0, end: T0 + 60_000 }, { page: key });
    if ('problem' in again) throw new Error(again.problem);
    expect(JSON.parse(again.data).id).toBe(data.id);
    expect(again.partitionKey).toBe(entry.partitionKey);
  });

  it('when a row holds a sum beyond the double range (±Infinity) or NaN, the record carries it as the string JSON has for it, not as null', () => {
    const entry = resultEntry('t', 'k', { start: T0, end: T0 + 60_000 }, {
      page: 'k',
      revenue: Infinity,
      loss: -Infinity,
      ratio: NaN,
      empty: null,
      n: 0,
    } as ResultRow);
    if ('problem' in entry) throw new Error(entry.problem);
    expect((JSON.parse(entry.data) as { value: unknown }).value).toEqual({
      page: 'k',
      revenue: 'Infinity',
      loss: '-Infinity',
      ratio: 'NaN',
      empty: null,
      n: 0,
    });
  });

  it('when a bounded run closes its windows, it captures one published record per result row (what shardflow run --in-memory hands the next stage)', async () => {
    const run = await runBounded(
      minutes,
      records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')) as unknown),
    );
    expect(run.rows.length).toBeGreaterThan(3);
    expect(ids(run.published)).toEqual(
      run.rows.map((row) => `page_minutes/${Number(row['window_start'])}/${String(row['page'])}`).sort(),
    );
  });
});
