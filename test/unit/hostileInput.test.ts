/**
 * The hostile input corpus through the in-memory apply path (BatchProcessor + InMemoryStateStore +
 * InMemoryObjectStore): every kind, including those only a hand-made Lambda event can carry, is
 * dead-lettered with its exact reason or counted exactly once; the valid records around each are all in the
 * result rows; no batch fails; no prototype is polluted. The same corpus runs through the real handler on
 * the local cloud in `test/integration/hostileInput.int.test.ts`.
 */
import { decodeKinesisEvent } from '../../functions/adapters/kinesisEventCodec';
import { eventShardId, InvalidWindowEventError } from '../../functions/adapters/tumblingWindowEvent';
import { InvalidShardIdError, replayShardId } from '../../functions/core/shardId';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { InMemoryObjectStore } from '../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore } from '../../functions/core/state/InMemoryStateStore';
import type { ResultEncoder, StatefulPipeline } from '../../functions/core/state/types';
import type { ColumnSpec, RawRecord, Rejection, ResultRow } from '../../functions/core/types';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import {
  expectedCounts,
  hostileCorpus,
  hostileOperators,
  interleave,
  prototypePolluted,
  validEvent,
  type CorpusTimes,
  type StreamEntry,
} from '../helpers/hostileCorpus';
import { kinesisSequence } from '../helpers/records';

const NOW = Date.UTC(2026, 10, 24, 9, 0, 0);
const TIMES: CorpusTimes = { base: NOW - 10 * 60_000, now: NOW };
const SHARD = 'shardId-000000000000';

/** Rows as JSON lines, so the test reads results without a Parquet reader. */
const jsonEncoder: ResultEncoder = {
  contentType: 'application/x-ndjson',
  extension: 'jsonl',
  encode: (_columns: readonly ColumnSpec[], rows: readonly ResultRow[]) =>
    new TextEncoder().encode(
      rows
        .map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)))
        .join('\n') + '\n',
    ),
};

function records(entries: readonly StreamEntry[]): RawRecord[] {
  return entries.map((e, i) => ({
    shardId: SHARD,
    sequenceNumber: kinesisSequence(i + 1),
    partitionKey: e.partitionKey,
    data: e.data,
    approximateArrivalTimestamp: NOW,
  }));
}

function lines<T>(objects: InMemoryObjectStore, prefix: string): T[] {
  return objects.jsonLines<T>(prefix);
}

async function run(
  pipeline: StatefulPipeline,
  entries: readonly StreamEntry[],
  batchSize: number,
): Promise<{ rejections: Rejection[]; counts: Record<string, number> }> {
  const objects = new InMemoryObjectStore();
  const processor = new BatchProcessor({
    pipeline,
    store: new InMemoryStateStore(),
    objects,
    encoder: jsonEncoder,
    clock: { now: () => NOW },
  });
  const all = records(entries);
  for (let i = 0; i < all.length; i += batchSize) {
    const result = await processor.apply(all.slice(i, i + batchSize));
    expect(result.late).toBe(0);
  }
  await processor.tick(Number.POSITIVE_INFINITY);
  const counts: Record<string, number> = {};
  for (const row of lines<{ page: string; events: number }>(objects, 'results/'))
    counts[row.page] = (counts[row.page] ?? 0) + row.events;
  return { rejections: lines<Rejection>(objects, 'rejected/'), counts };
}

describe('hostile input corpus, in-memory apply path', () => {
  const corpus = hostileCorpus(TIMES, validEvent(0, TIMES));

  it('when the corpus is built, it has at least 30 kinds with distinct names, and covers every reject reason the issue lists', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    expect(new Set(corpus.map((k) => k.name)).size).toBe(corpus.length);
    const reasons = new Set(corpus.flatMap((k) => ('rejected' in k.outcome ? [k.outcome.rejected] : [])));
    for (const reason of [
      'INVALID_BASE64',
      'INVALID_UTF8',
      'INVALID_JSON',
      'EMPTY_RECORD',
      'OVERSIZE_RECORD',
      'TOO_DEEPLY_NESTED',
      'SCHEMA_VIOLATION',
      'MISSING_EVENT_TIME',
      'ABSURD_EVENT_TIME',
      'EVENT_TIME_AHEAD',
      'INVALID_KPL_AGGREGATE',
      'OPERATOR_THREW',
      'OPERATOR_RETURNED_INVALID',
      'INVALID_KEY',
    ]) {
      expect(reasons).toContain(reason);
    }
  });

  for (const [target, pipeline] of [
    ['page-activity', pageActivity],
    ['hostile-operators', hostileOperators],
  ] as const) {
    for (const batchSize of [1, 7, 1000]) {
      it(`when every ${target} kind arrives between valid records in batches of ${batchSize}, it rejects each with its exact reason, counts the rest once and loses no valid record`, async () => {
        const kinds = corpus.filter((k) => k.target === target);
        const entries = interleave(kinds, TIMES, 0);
        const { rejections, counts } = await run(pipeline as unknown as StatefulPipeline, entries, batchSize);

        const bySequence = new Map(rejections.map((r) => [r.sequenceNumber, r]));
        const expected = entries.flatMap((e, i) =>
          e.kind !== undefined && 'rejected' in e.kind.outcome
            ? [[kinesisSequence(i + 1), e.kind.name, e.kind.outcome.rejected] as const]
            : [],
        );
        expect(expected.map(([seq, name]) => [name, bySequence.get(seq)?.reason])).toEqual(
          expected.map(([, name, reason]) => [name, reason]),
        );
        // Nothing else was rejected: not the valid neighbours, not the kinds that are owed a count.
        expect(rejections).toHaveLength(expected.length);
        expect(counts).toEqual(expectedCounts(entries));
        expect(prototypePolluted()).toBe(false);
      });
    }
  }
});

describe('hostile shard ids at the edges (a Kinesis eventID, a window event’s shardId)', () => {
  const HOSTILE = [
    '.',
    '..',
    '-x',
    '_x',
    '../state',
    's'.repeat(129),
    'shard\u0000',
    'shard\r\n',
    'shard\u001b[2J',
  ];
  const GENUINE = [
    'shardId-000000000000',
    'shardId-00000001414562045508-2bac9cd2',
    replayShardId('shardId-000000000000', kinesisSequence(1)),
  ];
  const kinesisEvent = (shard: string) => ({
    Records: [
      {
        eventID: `${shard}:${kinesisSequence(1)}`,
        kinesis: {
          partitionKey: 'p',
          sequenceNumber: kinesisSequence(1),
          data: Buffer.from(JSON.stringify(validEvent(0, TIMES))).toString('base64'),
          approximateArrivalTimestamp: NOW / 1000,
        },
      },
    ],
  });

  it('when a shard id is hostile, the event fails at decode with one line naming it, before anything is applied', () => {
    for (const shard of HOSTILE) {
      expect(() => decodeKinesisEvent(kinesisEvent(shard))).toThrow(InvalidShardIdError);
      expect(() => decodeKinesisEvent(kinesisEvent(shard))).toThrow(/^[^\n]*cannot be fenced[^\n]*$/);
      expect(() => eventShardId({ window: {}, shardId: shard })).toThrow(InvalidWindowEventError);
      expect(() => eventShardId({ window: {}, shardId: shard })).toThrow(/^[^\n]*cannot be fenced[^\n]*$/);
    }
  });

  it('when a shard id is genuine (Kinesis, DynamoDB Streams, a replay shard), its records are decoded and applied, side outputs under it', async () => {
    for (const shard of GENUINE) {
      const records = decodeKinesisEvent(kinesisEvent(shard));
      expect(records.map((r) => r.shardId)).toEqual([shard]);
      expect(eventShardId({ window: {}, shardId: shard })).toBe(shard);
      const objects = new InMemoryObjectStore();
      const processor = new BatchProcessor({
        pipeline: pageActivity as unknown as StatefulPipeline,
        store: new InMemoryStateStore(),
        objects,
        encoder: jsonEncoder,
        clock: { now: () => NOW },
      });
      await expect(processor.apply(records)).resolves.toMatchObject({ recordsIn: 1 });
      expect([...objects.objects.keys()].some((key) => key.includes(`/${shard}-`))).toBe(true);
    }
  });
});
