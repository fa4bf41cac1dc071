import { BatchProcessor } from '../../../../functions/core/state/BatchProcessor';
import { BatchApplyError } from '../../../../functions/core/state/errors';
import { InMemoryObjectStore } from '../../../../functions/core/state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { replayOrigin, replayShardId } from '../../../../functions/core/shardId';
import { SkippedBatchReplay } from '../../../../functions/core/state/SkippedBatchReplay';
import type { StateStore } from '../../../../functions/core/state/types';
import type { ColumnSpec, RawRecord, ResultRow } from '../../../../functions/core/types';
import { pageViewsPipeline, rawRecord } from '../../../faults/pageViewsPipeline';
import { storeCrashingBeforeCommit } from '../../../helpers/crashingStore';

const A = 'shardId-000000000000';
const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);
/** Sequence numbers as Kinesis gives them: 56 digits. */
const seq = (n: number): bigint =>
  49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(n);

const jsonEncoder = {
  contentType: 'application/json',
  extension: 'json',
  encode: (_columns: readonly ColumnSpec[], rows: readonly ResultRow[]) =>
    new TextEncoder().encode(
      JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    ),
};

/** Views 1..n on shard A, one per 100 ms from T0 (all in the first one-minute window), 5 users. */
const input: RawRecord[] = Array.from({ length: 30 }, (_, i) =>
  rawRecord(
    A,
    seq(i + 1),
    { id: `e${i + 1}`, user: `u${i % 5}`, ms: 1, ts: T0 + (i + 1) * 100 },
    T0 + (i + 1) * 100,
  ),
);
const range = (from: number, to: number): RawRecord[] => input.slice(from - 1, to);

function setup() {
  const tables = new InMemoryStateTables();
  const objects = new InMemoryObjectStore();
  const pipeline = pageViewsPipeline();
  const processorOn = (store: StateStore) =>
    new BatchProcessor({ pipeline, store, objects, encoder: jsonEncoder, clock: { now: () => T0 + 10_000 } });
  const store = new InMemoryStateStore({ tables });
  const processor = processorOn(store);
  const replay = (from: number, to: number) =>
    new SkippedBatchReplay({ processor, store, objects, pipeline }).replay(
      A,
      String(seq(from)),
      String(seq(to)),
      input,
    );
  const counted = async (): Promise<number> => {
    await processor.tick(Number.POSITIVE_INFINITY);
    return [...objects.objects.keys()]
      .filter((k) => k.startsWith('results/'))
      .flatMap((k) => JSON.parse(objects.text(k) ?? '[]') as { views: string }[])
      .reduce((sum, row) => sum + Number(row.views), 0);
  };
  return { tables, objects, processor, processorOn, replay, counted };
}

describe('SkippedBatchReplay', () => {
  test('when Lambda skipped a batch, its replay applies every record of it once, and a second replay applies none', async () => {
    const { processor, replay, counted } = setup();
    await processor.apply(range(1, 10));
    // 11..20 failed every retry and Lambda moved on.
    await processor.apply(range(21, 30));
    const first = await replay(11, 20);
    expect(first).toMatchObject({ records: 10, alreadyApplied: 0 });
    expect(first.applied.recordsIn).toBe(10);
    expect(replayOrigin(first.replayShard)).toBe(A);
    const again = await replay(11, 20);
    expect(again.replayShard).toBe(first.replayShard);
    expect(again.applied.duplicates).toBe(10);
    expect(await counted()).toBe(30);
  });

  test('when part of the skipped range had been committed (a bisected retry), only the rest is applied', async () => {
    const { processor, replay, counted } = setup();
    await processor.apply(range(1, 10));
    await processor.apply(range(11, 13));
    await processor.apply(range(14, 15));
    await processor.apply(range(21, 30));
    const result = await replay(11, 20);
    expect(result).toMatchObject({ records: 10, alreadyApplied: 5 });
    expect(result.applied.recordsIn).toBe(5);
    expect(await counted()).toBe(30);
  });

  test('when the range is found among many commits, the bisection over the commit log finds exactly the committed part', async () => {
    const { processor, replay, counted } = setup();
    for (let n = 1; n <= 30; n++) if (n < 17 || n > 19) await processor.apply(range(n, n));
    const result = await replay(15, 21);
    expect(result).toMatchObject({ records: 7, alreadyApplied: 4 });
    expect(await counted()).toBe(30);
  });

  test('when the replayed records are for windows emitted meanwhile, they are late, not counted into the emitted rows', async () => {
    const { processor, objects, replay, counted } = setup();
    await processor.apply(range(1, 10));
    await processor.apply(range(21, 30));
    await processor.tick(Number.POSITIVE_INFINITY);
    const result = await replay(11, 20);
    expect(result.applied.late).toBe(10);
    expect(
      [...objects.objects.keys()].some((k) => k.startsWith('late/') && k.includes(result.replayShard)),
    ).toBe(true);
    expect(await counted()).toBe(20);
  });

  test('when a skipped attempt wrote side outputs before its commit failed, the replay removes them and writes its own', async () => {
    const { tables, objects, processor, processorOn, replay, counted } = setup();
    await processor.apply(range(1, 10));
    await expect(processorOn(storeCrashingBeforeCommit(tables)).apply(range(11, 20))).rejects.toThrow(
      BatchApplyError,
    );
    await processor.apply(range(21, 30));
    const cleanOf = (shard: string) =>
      [...objects.objects.keys()].filter((k) => k.startsWith('clean/') && k.includes(`/${shard}-`));
    expect(cleanOf(A)).toHaveLength(3);
    const result = await replay(11, 20);
    expect(result.orphansRemoved).toBe(1);
    expect(cleanOf(A)).toHaveLength(2);
    expect(cleanOf(result.replayShard)).toHaveLength(1);
    const archived = [...objects.objects.keys()]
      .filter((k) => k.startsWith('clean/'))
      .flatMap((k) => (objects.text(k) ?? '').trim().split('\n'));
    expect(archived).toHaveLength(30);
    expect(await counted()).toBe(30);
  });

  test('when the replay shard is closed, it holds no window open', async () => {
    const { tables, processor, replay } = setup();
    await processor.apply(range(1, 10));
    const { replayShard } = await replay(11, 20);
    const progress = await new InMemoryStateStore({ tables }).readProgress(pageViewsPipeline().spec.name);
    expect(progress.shards.find((s) => s.shardId === replayShard)?.closed).toBe(true);
  });

  test('replay shard ids are short and stable, and no Kinesis shard id reads as one', () => {
    const id = replayShardId(A, String(seq(11)));
    expect(id).toMatch(/^shardId-000000000000\.replay-[0-9a-f]{12}$/);
    expect(replayShardId(A, `000${seq(11)}`)).toBe(id);
    expect(replayShardId(A, String(seq(12)))).not.toBe(id);
    expect(replayOrigin(A)).toBeUndefined();
    expect(replayOrigin('shardId-000000000000.replay-12')).toBeUndefined();
  });
});
