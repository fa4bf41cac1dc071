import { z } from 'zod';
import { pipeline, runBounded } from '../../../../functions/core';
import type { PublishEntry } from '../../../../functions/core/engine/streamTap';
import { BUCKET_PREFIX } from '../../../../functions/core/constants';
import { padSequence } from '../../../../functions/core/sequence';
import { processKinesisBatch } from '../../../../functions/core/state/batchResponse';
import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { BatchApplyError, PublishError } from '../../../../functions/core/state/errors';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import {
  classifyStateChange,
  parseStateShape,
  shapeText,
  STATE_CHANGE,
} from '../../../../functions/core/state/stateFingerprint';
import type { ResultEncoder, StateStore } from '../../../../functions/core/state/types';
import type { RawRecord } from '../../../../functions/core/types';
import { storeCrashingBeforeCommit } from '../../../helpers/crashingStore';
import { rawRecord } from '../../../helpers/records';
import { tapping } from '../../../helpers/tappingPipeline';

const T0 = Date.UTC(2030, 0, 1, 12);
const NOW = T0 + 3_600_000;
const SHARD = 'shardId-000000000000';
const Click = z.object({ id: z.string(), user: z.string(), ts: z.number(), tags: z.array(z.string()) });
type Click = z.infer<typeof Click>;

/** Clean once, fan out one value per tag, publish: no window, no result table. */
const cleanTags = pipeline('clean-tags')
  .source({ stream: 'clickstream', shards: 1 })
  .clean({ schema: Click, eventTime: (c) => c.ts })
  .filter((c) => c.user !== 'bot')
  .flatMap((c) => c.tags.map((tag) => ({ user: c.user, tag })))
  .toStream('tags', { partitionKey: (v) => v.user });

const withDedupe = pipeline('clean-once')
  .source({ stream: 'clickstream' })
  .clean({ schema: Click, eventTime: (c) => c.ts, dedupeBy: (c) => c.id })
  .toStream('clicks-clean', { partitionKey: (c) => c.user });

const click = (n: number, over: Partial<Click> = {}): Click => ({
  id: `c${n}`,
  user: n % 5 === 0 ? 'bot' : `u${n % 3}`,
  ts: T0 + n * 1000,
  tags: n % 4 === 0 ? ['a', 'b'] : ['a'],
  ...over,
});
const records = (from: number, to: number): RawRecord[] =>
  Array.from({ length: to - from }, (_, i) =>
    rawRecord(click(from + i), {
      shardId: SHARD,
      sequenceNumber: from + i,
      approximateArrivalTimestamp: NOW,
    }),
  );
const noRows: ResultEncoder = { contentType: 'x', extension: 'x', encode: () => new Uint8Array() };

function setup(options: { store?: StateStore; refuse?: number } = {}) {
  const store = options.store ?? new InMemoryStateStore({ tables: new InMemoryStateTables() });
  const objects = new InMemoryObjectStore();
  const calls: { entries: readonly PublishEntry[]; committedThrough: string | undefined }[] = [];
  let refusals = options.refuse ?? 0;
  const processor = new BatchProcessor({
    pipeline: cleanTags,
    store,
    objects,
    encoder: noRows,
    clock: { now: () => NOW },
    publisher: {
      stream: 'tags',
      publish: async (entries) => {
        if (refusals-- > 0) throw new PublishError('1 of 1 records to stream tags were refused 5 times');
        const progress = await store.readProgress('clean-tags');
        calls.push({ entries, committedThrough: progress.shards[0]?.lastSequence });
      },
    },
  });
  return { processor, calls, store, objects };
}

const ids = (entries: readonly PublishEntry[]): string[] =>
  entries.map((e) => (JSON.parse(e.data) as { id: string }).id);
/** The ids the batch of clicks `from..to-1` publishes: bots filtered out, `#1` for a second tag. */
const expectedIds = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => from + i)
    .filter((n) => n % 5 !== 0)
    .flatMap((n) => (n % 4 === 0 ? [`${SHARD}/${n}`, `${SHARD}/${n}#1`] : [`${SHARD}/${n}`]));

describe('a publish-only pipeline: commit, then publish', () => {
  it('when a batch commits, its shard progress moves and every value of its fan-out is published after the commit, each under its own id', async () => {
    const { processor, calls, store } = setup();
    const result = await processor.apply(records(1, 13));
    expect(result).toMatchObject({ recordsIn: 12, windowsEmitted: 0, windowsWritten: 0, late: 0 });
    expect(ids(calls[0]!.entries)).toEqual(expectedIds(1, 13));
    expect(result.published).toBe(expectedIds(1, 13).length);
    expect(calls[0]!.committedThrough).toBe(padSequence('12'));
    const progress = await store.readProgress('clean-tags');
    expect(progress.shards.map((s) => [s.lastSequence, s.pending])).toEqual([[padSequence('12'), []]]);
    expect(progress.shapes?.get(cleanTags.stateFingerprint)).toEqual(cleanTags.stateShape);
    expect(progress.shards[0]!.counts).toMatchObject({ records: 12, published: expectedIds(1, 13).length });
  });

  it('when the commit fails, nothing is published', async () => {
    const { processor, calls } = setup({ store: storeCrashingBeforeCommit(new InMemoryStateTables()) });
    await expect(processor.apply(records(1, 5))).rejects.toBeInstanceOf(BatchApplyError);
    expect(calls).toEqual([]);
  });

  it('when a committed batch is redelivered, it is not applied again but its values are published again under the same ids', async () => {
    const { processor, calls, store } = setup();
    await processor.apply(records(1, 9));
    const again = await processor.apply(records(1, 9));
    expect(again.duplicates).toBe(8);
    expect(calls[1]!.entries).toEqual(calls[0]!.entries);
    // Counted once: the copies published again are not values the commits published.
    const progress = await store.readProgress('clean-tags');
    expect(progress.shards[0]!.counts).toMatchObject({ records: 8, published: expectedIds(1, 9).length });
  });

  it('when publishing fails after the commit, the batch fails from its first record and its redelivery publishes every committed value', async () => {
    const { processor, calls } = setup({ refuse: 1 });
    const batch = records(1, 9);
    const failed = await processKinesisBatch(processor, batch);
    expect(failed.response.batchItemFailures).toEqual([{ itemIdentifier: '1' }]);
    expect(calls).toEqual([]);
    const redelivered = await processKinesisBatch(processor, batch);
    expect(redelivered.response.batchItemFailures).toEqual([]);
    expect(ids(calls[0]!.entries)).toEqual(expectedIds(1, 9));
  });

  it('when records are bad, they go to rejected/ with their reason and nothing of them is published; no record is ever late', async () => {
    const { processor, calls, objects } = setup();
    const bad = [
      rawRecord({ id: 'x' }, { shardId: SHARD, sequenceNumber: 20, approximateArrivalTimestamp: NOW }),
      rawRecord(click(21, { ts: T0 - 86_400_000 }), {
        shardId: SHARD,
        sequenceNumber: 21,
        approximateArrivalTimestamp: NOW,
      }),
    ];
    const result = await processor.apply([...records(1, 3), ...bad]);
    expect(result).toMatchObject({ rejected: 1, late: 0 });
    expect(objects.jsonLines<{ reason: string }>(BUCKET_PREFIX.REJECTED).map((r) => r.reason)).toEqual([
      'SCHEMA_VIOLATION',
    ]);
    expect(ids(calls[0]!.entries)).toEqual([...expectedIds(1, 3), `${SHARD}/21`]);
    expect(objects.jsonLines(BUCKET_PREFIX.LATE)).toEqual([]);
  });

  it('when the tick and a drain run, they close nothing and do not fail', async () => {
    const { processor } = setup();
    await processor.apply(records(1, 5));
    expect((await processor.tick()).windowsEmitted).toBe(0);
    expect(
      (await processor.tick(undefined, { shardIds: [SHARD, 'shardId-000000000001'] })).windowsEmitted,
    ).toBe(0);
    expect((await processor.tick(Number.POSITIVE_INFINITY)).windowsEmitted).toBe(0);
    expect(await processor.drain()).toEqual({ drainedThrough: null, windowsEmitted: 0 });
  });

  it('with dedupeBy, each value is published under its dedupe id, and a producer duplicate under the same id as its first copy', async () => {
    const input = [click(1), click(2), click(1), click(3)];
    const { published, rows, duplicates } = await runBounded(withDedupe, input, { batchSize: 2 });
    expect(ids(published)).toEqual(['c1', 'c2', 'c1', 'c3']);
    expect(rows).toEqual([]);
    expect(duplicates).toBe(0);
  });
});

describe('the state shape of a publish-only pipeline', () => {
  it('has no key and no window, reads back, and a change to or from a windowed definition is incompatible', () => {
    const shape = cleanTags.stateShape;
    expect(shape).toMatchObject({ key: null, window: null, dedupe: false, aggregates: [] });
    expect(parseStateShape(shapeText(shape))).toEqual(shape);
    expect(withDedupe.stateFingerprint).not.toBe(cleanTags.stateFingerprint);
    const toWindowed = classifyStateChange(shape, tapping.stateShape);
    expect(toWindowed.kind).toBe(STATE_CHANGE.INCOMPATIBLE);
    expect(toWindowed.reasons).toEqual([
      'key column changed from (none) to key',
      'window changed from none (publish-only) to tumbling 60000 ms',
    ]);
    expect(classifyStateChange(tapping.stateShape, shape).kind).toBe(STATE_CHANGE.INCOMPATIBLE);
  });
});
