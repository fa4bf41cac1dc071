import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { count, pipeline, runBounded, sum, tumbling } from '../../../../functions/core';
import type { PublishEntry } from '../../../../functions/core/engine/streamTap';
import { InvalidOptionError } from '../../../../functions/core/errors';
import { padSequence } from '../../../../functions/core/sequence';
import { processKinesisBatch } from '../../../../functions/core/state/batchResponse';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { SkippedBatchReplay } from '../../../../functions/core/state/SkippedBatchReplay';
import { BatchApplyError, PublishError } from '../../../../functions/core/state/errors';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import type { ResultEncoder, StatefulPipeline, StateStore } from '../../../../functions/core/state/types';
import type { RawRecord } from '../../../../functions/core/types';
import { storeCrashingBeforeCommit } from '../../../helpers/crashingStore';
import { rawRecord } from '../../../helpers/records';

const T0 = Date.UTC(2030, 0, 1, 12);
const SHARD = 'shardId-000000000000';
const Click = z.object({
  id: z.string(),
  user: z.string(),
  page: z.string(),
  ts: z.number(),
  ms: z.number(),
});
type Click = z.infer<typeof Click>;

/** Stage 1: clicks → the `views` stream (one record per click, keyed by user), and clicks per page and minute. */
const upstream = pipeline('clicks')
  .source({ stream: 'clickstream', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => c.ts })
  .filter((c) => c.ms >= 0)
  .map((c) => ({ user: c.user, page: c.page, ms: c.ms }))
  .toStream('views', { partitionKey: (v) => v.user })
  .keyBy((v) => v.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
  .aggregate({ clicks: count() })
  .sink({ table: 'clicks_by_page' });

const View = z.object({
  id: z.string(),
  time: z.number(),
  value: z.object({ user: z.string(), page: z.string(), ms: z.number() }),
});
/** Stage 2: the `views` stream → views and time spent per user and minute, each upstream value once. */
const userMinutes = (shards: number) =>
  pipeline('user-minutes')
    .source({ stream: 'views', shards })
    .clean({ schema: View, eventTime: (r) => r.time, dedupeBy: (r) => r.id })
    .keyBy((r) => r.value.user, 'user')
    .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '30s' })
    .aggregate({ views: count(), time_ms: sum((r) => r.value.ms) })
    .sink({ table: 'user_minutes' });
const downstream = userMinutes(2);

const click = (n: number): Click => ({
  id: `c${n}`,
  user: `u${n % 7}`,
  page: `/p${n % 3}`,
  ts: T0 + n * 1000,
  ms: n % 11 === 0 ? -1 : n * 10,
});
const clickRecords = (from: number, to: number): RawRecord[] =>
  Array.from({ length: to - from }, (_, i) =>
    rawRecord(click(from + i), {
      shardId: SHARD,
      sequenceNumber: from + i,
      approximateArrivalTimestamp: T0 + 3_600_000,
    }),
  );

const rowsEncoder: ResultEncoder = {
  contentType: 'application/json',
  extension: 'json',
  encode: () => new Uint8Array(),
};

/** A publisher that records each call with the committed position of the shard at that moment. */
function recordingPublisher(store: StateStore, refuse = 0) {
  const calls: { entries: readonly PublishEntry[]; committedThrough: string | undefined }[] = [];
  let refusals = refuse;
  return {
    calls,
    publisher: {
      stream: 'views',
      publish: async (entries: readonly PublishEntry[]) => {
        if (refusals-- > 0) throw new PublishError('1 of 1 records to stream views were refused 5 times');
        const progress = await store.readProgress('clicks');
        calls.push({
          entries,
          committedThrough: progress.shards.find((s) => s.shardId === SHARD)?.lastSequence,
        });
      },
    },
  };
}

function setup(options: { store?: StateStore; refuse?: number; pipeline?: StatefulPipeline } = {}) {
  const tables = new InMemoryStateTables();
  const store = options.store ?? new InMemoryStateStore({ tables });
  const recording = recordingPublisher(store, options.refuse);
  const processor = new BatchProcessor({
    pipeline: options.pipeline ?? upstream,
    store,
    objects: new InMemoryObjectStore(),
    encoder: rowsEncoder,
    clock: { now: () => T0 + 3_600_000 },
    publisher: recording.publisher,
  });
  return { processor, ...recording, tables, store };
}

/**
 * `upstream` whose partial state for the page `/huge` carries 5 MB more: a click on it cannot fit one commit
 * even alone, so it is dead-lettered `STATE_LIMIT` and its value is not published.
 */
const stage: StatefulPipeline = upstream;
const withHugePage: StatefulPipeline = {
  spec: stage.spec,
  stateShape: stage.stateShape,
  stateFingerprint: stage.stateFingerprint,
  prepare: (records, options) => stage.prepare(records, options),
  combine: (prepared, fenceOf, seen, stats) =>
    stage
      .combine(prepared, fenceOf, seen, stats)
      .map((p) =>
        p.key === '/huge'
          ? { ...p, state: { ...p.state, pad: randomBytes(5_000_000).toString('base64') } }
          : p,
      ),
  mergeState: (a, b) => stage.mergeState(a, b),
  resultRow: (key, window, state, records, evolved) => stage.resultRow(key, window, state, records, evolved),
  closeTime: (window) => stage.closeTime(window),
};
/** Clicks 1..9, click 5 on the page `/huge`. */
const withHugeClick = (): RawRecord[] =>
  clickRecords(1, 10).map((r) =>
    r.sequenceNumber === '5'
      ? rawRecord(
          { ...click(5), page: '/huge' },
          { shardId: SHARD, sequenceNumber: 5, approximateArrivalTimestamp: T0 + 3_600_000 },
        )
      : r,
  );

/**
 * `batch` (records 1..9) committed but its publish refused, so the batch fails (as Lambda would then skip it
 * after its retries), then its range replayed (`SkippedBatchReplay`).
 */
async function skipThenReplay(pipeline: StatefulPipeline, batch: readonly RawRecord[]) {
  const { processor, calls, store } = setup({ pipeline, refuse: 1 });
  expect((await processKinesisBatch(processor, batch)).response.batchItemFailures).toHaveLength(1);
  const replay = await new SkippedBatchReplay({
    processor,
    store,
    objects: new InMemoryObjectStore(),
    pipeline,
  }).replay(SHARD, '1', '9', batch);
  return { replay, calls };
}

const ids = (entries: readonly PublishEntry[]): string[] =>
  entries.map((e) => (JSON.parse(e.data) as { id: string }).id);
const sequenceOf = (id: string): string => padSequence(id.split('/')[1]!.split('#')[0]!);

describe('publishing after the commit (toStream)', () => {
  it('when a batch commits, the values of its records that were not rejected are published after the commit', async () => {
    const { processor, calls } = setup();
    const result = await processor.apply(clickRecords(1, 25));
    expect(calls).toHaveLength(1);
    const published = ids(calls[0]!.entries);
    // c11 and c22 are filtered out (ms < 0): no value, nothing published.
    expect(published).toEqual(
      Array.from({ length: 24 }, (_, i) => i + 1)
        .filter((n) => n % 11 !== 0)
        .map((n) => `${SHARD}/${n}`),
    );
    for (const id of published) expect(sequenceOf(id) <= calls[0]!.committedThrough!).toBe(true);
    expect(result.published).toBe(22);
  });

  it('when the commit fails, nothing is published', async () => {
    const tables = new InMemoryStateTables();
    const { processor, calls } = setup({ store: storeCrashingBeforeCommit(tables) });
    await expect(processor.apply(clickRecords(1, 10))).rejects.toBeInstanceOf(BatchApplyError);
    expect(calls).toEqual([]);
  });

  it('when a committed batch is redelivered, whole or with more records after it, its values are published again with the same ids', async () => {
    const { processor, calls } = setup();
    await processor.apply(clickRecords(1, 10));
    const again = await processor.apply(clickRecords(1, 10));
    expect(again.duplicates).toBe(9);
    expect(calls[1]!.entries).toEqual(calls[0]!.entries);
    await processor.apply(clickRecords(5, 15));
    expect(ids(calls[2]!.entries)).toEqual([5, 6, 7, 8, 9, 10, 12, 13, 14].map((n) => `${SHARD}/${n}`));
  });

  it('when publishing fails after the commit, the batch fails from its first record and the redelivery publishes it all', async () => {
    const { processor, calls } = setup({ refuse: 1 });
    const batch = clickRecords(1, 10);
    const failed = await processKinesisBatch(processor, batch);
    expect(failed.response.batchItemFailures).toEqual([{ itemIdentifier: '1' }]);
    expect(failed.error).toBeInstanceOf(BatchApplyError);
    expect((failed.error as BatchApplyError).recordsApplied).toBe(false);
    expect(calls).toEqual([]);
    const redelivered = await processKinesisBatch(processor, batch);
    expect(redelivered.response.batchItemFailures).toEqual([]);
    expect(redelivered.result).toMatchObject({ duplicates: 9, published: 9 });
    expect(ids(calls[0]!.entries)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `${SHARD}/${n}`));
  });

  it('when a batch Lambda skipped had committed but not published, replaying its range publishes those records again under their ids and applies none twice', async () => {
    const { replay, calls } = await skipThenReplay(upstream, clickRecords(1, 10));
    expect(replay).toMatchObject({ alreadyApplied: 9, republished: 9, applied: { recordsIn: 0 } });
    expect(ids(calls[0]!.entries)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `${SHARD}/${n}`));
  });

  it('when a record is dead-lettered STATE_LIMIT, neither its commit nor a redelivery of its batch publishes it', async () => {
    const { processor, calls } = setup({ pipeline: withHugePage });
    const batch = withHugeClick();
    expect(await processor.apply(batch)).toMatchObject({ rejected: 1 });
    const published = [1, 2, 3, 4, 6, 7, 8, 9].map((n) => `${SHARD}/${n}`);
    expect(calls.flatMap((call) => ids(call.entries))).toEqual(published);
    calls.length = 0;
    expect(await processor.apply(batch)).toMatchObject({ duplicates: 9 });
    expect(calls.flatMap((call) => ids(call.entries))).toEqual(published);
  });

  it('when a batch holding a STATE_LIMIT record is redelivered with more records after it, only the others are published again', async () => {
    const { processor, calls } = setup({ pipeline: withHugePage });
    await processor.apply(withHugeClick());
    calls.length = 0;
    expect(await processor.apply([...withHugeClick(), ...clickRecords(10, 13)])).toMatchObject({
      duplicates: 9,
    });
    // c11 is filtered out (ms < 0).
    expect(calls.flatMap((call) => ids(call.entries))).toEqual(
      [1, 2, 3, 4, 6, 7, 8, 9, 10, 12].map((n) => `${SHARD}/${n}`),
    );
  });

  it('when a skipped range holds a record dead-lettered STATE_LIMIT, replaying it does not publish that record', async () => {
    const { replay, calls } = await skipThenReplay(withHugePage, withHugeClick());
    expect(replay).toMatchObject({ alreadyApplied: 9, republished: 8 });
    expect(calls.flatMap((call) => ids(call.entries))).toEqual(
      [1, 2, 3, 4, 6, 7, 8, 9].map((n) => `${SHARD}/${n}`),
    );
  });

  it('when a pipeline publishes but no publisher for its stream is given, the processor refuses to start', () => {
    const deps = {
      pipeline: upstream,
      store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
      objects: new InMemoryObjectStore(),
      encoder: rowsEncoder,
      clock: { now: () => T0 },
    };
    expect(() => new BatchProcessor(deps)).toThrow(
      new InvalidOptionError(
        'Pipeline clicks publishes to stream views (toStream): give a publisher for that stream (given none)',
      ),
    );
    expect(
      () => new BatchProcessor({ ...deps, publisher: { stream: 'other', publish: async () => undefined } }),
    ).toThrow('give a publisher for that stream (given other)');
  });
});

/** The stream's shard of a partition key, as Kinesis routes it: MD5 of the key over evenly split hash ranges. */
const shardOf = (partitionKey: string, shards: number): number =>
  Number(BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`) % BigInt(shards));

/** Puts `entries` on a 2-shard stream in order; `copies(i)` says how often entry i lands (a republish). */
function onStream(entries: readonly PublishEntry[], copies: (i: number) => number, shards = 2): RawRecord[] {
  const next = Array.from({ length: shards }, () => 0);
  const records: RawRecord[] = [];
  entries.forEach((entry, i) => {
    for (let c = 0; c < copies(i); c++) {
      const shard = shardOf(entry.partitionKey, shards);
      records.push({
        shardId: `shardId-00000000000${shard}`,
        sequenceNumber: String(++next[shard]!),
        partitionKey: entry.partitionKey,
        data: Buffer.from(entry.data).toString('base64'),
        approximateArrivalTimestamp: T0 + 3_600_000,
      });
    }
  });
  return records;
}

describe('two stages, each value counted once downstream', () => {
  it('when every published value lands two or three times, the downstream rows equal the rows over the clicks themselves', async () => {
    const clicks = Array.from({ length: 400 }, (_, i) => click(i + 1));
    const first = await runBounded(upstream, clicks, { batchSize: 50 });
    expect(first.published).toHaveLength(clicks.filter((c) => c.ms >= 0).length);
    const duplicated = onStream(first.published, (i) => 1 + (i % 3 === 0 ? 2 : i % 2));
    const { rows, duplicates, late } = await runBounded(downstream, duplicated, { batchSize: 40 });
    expect(duplicates).toBe(duplicated.length - first.published.length);
    expect(late).toEqual([]);
    // The reference: views and time per user and minute over the clicks, each once.
    const expected = new Map<string, { user: string; start: number; views: bigint; time_ms: number }>();
    for (const c of clicks.filter((c) => c.ms >= 0)) {
      const start = Math.floor(c.ts / 60_000) * 60_000;
      const row = expected.get(`${c.user}|${start}`) ?? { user: c.user, start, views: 0n, time_ms: 0 };
      row.views += 1n;
      row.time_ms += c.ms;
      expected.set(`${c.user}|${start}`, row);
    }
    const actual = rows.map((r) => ({
      user: r['user'],
      start: r['window_start'],
      views: BigInt(r['views'] as number | bigint),
      time_ms: r['time_ms'],
    }));
    const order = (a: { start: unknown; user: unknown }, b: { start: unknown; user: unknown }) =>
      Number(a.start) - Number(b.start) || String(a.user).localeCompare(String(b.user));
    expect(actual.sort(order)).toEqual([...expected.values()].sort(order));
  });

  it('when a copy lands after its window was emitted downstream, it is late there, never counted twice', async () => {
    // Two clicks of user u1 (same partition key, same shard), 210 s apart: the second closes the first minute.
    const first = await runBounded(upstream, [click(1), click(211)], { batchSize: 1 });
    const [early, later] = first.published;
    const { rows, late, duplicates } = await runBounded(
      userMinutes(1),
      onStream([early!, later!, early!], () => 1, 1),
      { batchSize: 1 },
    );
    expect(duplicates).toBe(0);
    expect(rows.map((r) => [r['user'], Number(r['window_start']) - T0, Number(r['views'])])).toEqual([
      ['u1', 0, 1],
      ['u1', 180_000, 1],
    ]);
    expect(late).toHaveLength(1);
  });
});
