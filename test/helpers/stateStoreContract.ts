/**
 * The state-store contract (d2ts style): one suite, run against every `StateStore` implementation — the
 * in-memory store in the unit project and the DynamoDB store on DynamoDB Local in the integration one.
 */
import { StateConflictError, StateLimitError } from '../../functions/core/state/errors';
import { NO_SEQUENCE } from '../../functions/core/state/keys';
import { MAX_TRANSACTION_BYTES, SEGMENT_CHUNK_BYTES } from '../../functions/core/state/limits';
import { withAttempt } from '../../functions/core/state/segmentAttempts';
import { pipelineItemKey, type StateItem } from '../../functions/core/state/stateItems';
import type { Segment, ShardCommit, ShardProgress, StateStore } from '../../functions/core/state/types';
import { padSequence } from '../../functions/core/sequence';

/** What a contract test needs from an implementation. */
export interface StateStoreFixture {
  /** A store over the shared backend. */
  readonly store: StateStore;
  /** Another store instance over the same backend with its own (cold) cache: a second Lambda instance. */
  sibling(): StateStore;
  /** Writes `item` as it is (an item another version, a restore or a hand edit left behind). */
  putItem(item: StateItem): Promise<void>;
}

let counter = 0;
const uniquePipeline = (): string => `contract-${process.pid}-${Date.now().toString(36)}-${(counter += 1)}`;
const SHARD = 'shardId-000000000000';

export function progress(pipeline: string, overrides: Partial<ShardProgress> = {}): ShardProgress {
  return {
    pipeline,
    shardId: SHARD,
    watermark: 1_000,
    maxEventTime: 6_000,
    lastSequence: padSequence('100'),
    lastActivity: 1_700_000_000_000,
    closed: false,
    frozen: -Infinity,
    commits: 0,
    pending: [],
    counts: { records: 120, rejected: 3, late: 2, duplicates: 1 },
    version: 1,
    ...overrides,
  };
}

/** A segment of `bytes` pseudo-random (incompressible) bytes, not written yet. */
export function segment(
  pipeline: string,
  commit: number,
  bytes = 64,
  shardId = SHARD,
): Omit<Segment, 'attempt'> {
  const body = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) body[i] = (i * 2654435761 + commit * 97) >>> 24;
  return {
    pipeline,
    shardId,
    commit,
    firstSequence: padSequence(String(commit * 10)),
    lastSequence: padSequence(String(commit * 10 + 9)),
    body,
    ttl: 2_000_000_000,
    // Every judgement a close mark can be: none yet, a time, the end of input.
    judgedBy: [-Infinity, 1_780_000_000_000, Infinity][commit % 3],
  };
}

/** Writes `draft`, then commits naming the attempt it got, as `BatchProcessor` does; returns the progress. */
export async function commitWithSegment(
  store: StateStore,
  commit: Omit<ShardCommit, 'segment'>,
  draft: Omit<Segment, 'attempt'>,
): Promise<ShardProgress> {
  const written = await store.writeSegment(draft);
  const progress = withAttempt(
    commit.progress,
    written.commit,
    written.attempt,
    written.ttl,
    1_700_000_000_000,
  );
  await store.commit({ ...commit, progress, segment: written });
  return progress;
}

async function stored(store: StateStore, pipeline: string): Promise<ShardProgress> {
  const [shard] = (await store.readProgress(pipeline)).shards;
  if (shard === undefined) throw new Error('expected a shard progress item');
  return shard;
}

async function conflictOf(promise: Promise<unknown>): Promise<StateConflictError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StateConflictError) return error;
    throw error;
  }
  throw new Error('expected a StateConflictError, but the write succeeded');
}

/** Registers the contract suite for one implementation. */
export function describeStateStoreContract(name: string, factory: () => Promise<StateStoreFixture>): void {
  describe(`StateStore contract: ${name}`, () => {
    let fixture: StateStoreFixture;
    let pipeline: string;
    beforeEach(async () => {
      fixture = await factory();
      pipeline = uniquePipeline();
    });

    test('when a shard commits for the first time, every instance reads its progress back whole, ±Infinity marks included', async () => {
      const first = progress(pipeline, {
        frozen: -Infinity,
        pending: [{ start: 0, end: 60_000, firstCommit: 1, lastCommit: 1 }],
        commits: 1,
      });
      await commitWithSegment(
        fixture.store,
        { progress: first, expectedVersion: undefined, closedWatermarkRead: -Infinity },
        segment(pipeline, 1),
      );
      const read = await fixture.sibling().readProgress(pipeline);
      expect(read).toEqual({ shards: [first], pipeline: undefined });
    });

    test('when the stored version moved on, a commit fails with the stored progress and writes nothing', async () => {
      await fixture.store.commit({
        progress: progress(pipeline),
        expectedVersion: undefined,
        closedWatermarkRead: -Infinity,
      });
      const winner = progress(pipeline, { version: 2, commits: 1, lastSequence: padSequence('200') });
      await commitWithSegment(
        fixture.sibling(),
        { progress: winner, expectedVersion: 1 },
        segment(pipeline, 1),
      );
      // The racing copy's segment write succeeds under the next attempt number; its commit fails.
      const loser = progress(pipeline, { version: 2, commits: 1, lastSequence: padSequence('150') });
      const conflict = await conflictOf(
        commitWithSegment(fixture.store, { progress: loser, expectedVersion: 1 }, segment(pipeline, 1, 99)),
      );
      expect(conflict.existing).toEqual(winner);
      const segments = await fixture.sibling().readSegments(await stored(fixture.store, pipeline), 1, 1);
      expect(segments.map((s) => [s.attempt, s.body.byteLength])).toEqual([[0, 64]]);
    });

    test('when a shard item exists, a first commit for it fails', async () => {
      await fixture.store.commit({
        progress: progress(pipeline),
        expectedVersion: undefined,
        closedWatermarkRead: -Infinity,
      });
      await conflictOf(
        fixture.sibling().commit({
          progress: progress(pipeline),
          expectedVersion: undefined,
          closedWatermarkRead: -Infinity,
        }),
      );
    });

    test('when the pipeline closed watermark moved after a new shard read it, its first commit fails', async () => {
      await fixture.store.raisePipeline(pipeline, { closedWatermark: 5_000 });
      await conflictOf(
        fixture.store.commit({
          progress: progress(pipeline),
          expectedVersion: undefined,
          closedWatermarkRead: -Infinity,
        }),
      );
      await fixture.store.commit({
        progress: progress(pipeline, { frozen: 5_000 }),
        expectedVersion: undefined,
        closedWatermarkRead: 5_000,
      });
      expect((await fixture.sibling().readProgress(pipeline)).shards.map((s) => s.frozen)).toEqual([5_000]);
    });

    test('when a close pass raised the pipeline closedEnd after a new shard read it, its first commit fails; a shard keeps its closedEnd', async () => {
      await fixture.store.raisePipeline(pipeline, { closedWatermark: 5_000 });
      await fixture.sibling().raisePipeline(pipeline, { closedEnd: 4_000 });
      // Read before the closedEnd was raised: the closed watermark alone still holds.
      await conflictOf(
        fixture.store.commit({
          progress: progress(pipeline, { frozen: 5_000, closedEnd: 5_000 }),
          expectedVersion: undefined,
          closedWatermarkRead: 5_000,
        }),
      );
      await conflictOf(
        fixture.store.commit({
          progress: progress(pipeline, { frozen: 5_000, closedEnd: 3_000 }),
          expectedVersion: undefined,
          closedWatermarkRead: 5_000,
          closedEndRead: 3_000,
        }),
      );
      await fixture.store.commit({
        progress: progress(pipeline, { frozen: 5_000, closedEnd: 4_000 }),
        expectedVersion: undefined,
        closedWatermarkRead: 5_000,
        closedEndRead: 4_000,
      });
      const read = await fixture.sibling().readProgress(pipeline);
      expect(read.shards.map((s) => [s.frozen, s.closedEnd])).toEqual([[5_000, 4_000]]);
      expect(read.pipeline).toMatchObject({ closedWatermark: 5_000, closedEnd: 4_000 });
    });

    test('when every mark offered is above the stored one, they are raised in one write; when some are not, the rest in one more', async () => {
      await fixture.store.raisePipeline(pipeline, { closedWatermark: 10, emittedThrough: 5 });
      const before = fixture.store.stats.writeUnits;
      expect(await fixture.store.raisePipeline(pipeline, { closedWatermark: 20, closedEnd: 15 })).toEqual({
        pipeline,
        closedWatermark: 20,
        closedEnd: 15,
        emittedThrough: 5,
      });
      expect(fixture.store.stats.writeUnits - before).toBe(1);
      // emittedThrough is not below 4: the update of all three is refused, then the other two in one.
      const sibling = fixture.sibling();
      expect(
        await sibling.raisePipeline(pipeline, { emittedThrough: 4, emittedEnd: 3, closedEnd: 16 }),
      ).toEqual({ pipeline, closedWatermark: 20, closedEnd: 16, emittedThrough: 5, emittedEnd: 3 });
      expect(sibling.stats.writeUnits).toBe(2);
      // Nothing below (a pass that lost the race to another): one refused write.
      const third = fixture.sibling();
      await third.raisePipeline(pipeline, { closedWatermark: 20, closedEnd: 16 });
      expect(third.stats.writeUnits).toBe(1);
      expect((await fixture.sibling().readProgress(pipeline)).pipeline).toEqual({
        pipeline,
        closedWatermark: 20,
        closedEnd: 16,
        emittedThrough: 5,
        emittedEnd: 3,
      });
    });

    /** The pipeline item as a restore or a hand edit may leave it: closedWatermark 10, closedEnd NULL. */
    const putPipelineWithNullClosedEnd = (): Promise<void> =>
      fixture.putItem({
        ...pipelineItemKey(pipeline),
        pipeline: { S: pipeline },
        closedWatermark: { N: '10' },
        closedEnd: { NULL: true },
      });

    test('when the pipeline closedEnd is stored as NULL (-Infinity), a first commit that read none holds its condition', async () => {
      await putPipelineWithNullClosedEnd();
      await fixture.store.commit({
        progress: progress(pipeline, { frozen: 10 }),
        expectedVersion: undefined,
        closedWatermarkRead: 10,
      });
      expect((await fixture.sibling().readProgress(pipeline)).shards.map((s) => s.frozen)).toEqual([10]);
    });

    test('when a pipeline mark is stored as NULL (-Infinity), a raise replaces it in one write', async () => {
      await putPipelineWithNullClosedEnd();
      const store = fixture.sibling();
      expect(await store.raisePipeline(pipeline, { closedEnd: 5, closedWatermark: 12 })).toMatchObject({
        closedWatermark: 12,
        closedEnd: 5,
      });
      expect(await store.raisePipeline(pipeline, { closedEnd: 6 })).toMatchObject({ closedEnd: 6 });
      expect(store.stats.writeUnits).toBe(2);
    });

    test('when the pipeline marks are raised and then offered lower values, each keeps its highest', async () => {
      expect(await fixture.store.raisePipeline(pipeline, { closedWatermark: 10 })).toEqual({
        pipeline,
        closedWatermark: 10,
        emittedThrough: -Infinity,
      });
      await fixture.sibling().raisePipeline(pipeline, { emittedThrough: 7 });
      expect(await fixture.store.raisePipeline(pipeline, { closedWatermark: 3, emittedThrough: 2 })).toEqual({
        pipeline,
        closedWatermark: 10,
        emittedThrough: 7,
      });
      expect((await fixture.sibling().readProgress(pipeline)).pipeline).toEqual({
        pipeline,
        closedWatermark: 10,
        emittedThrough: 7,
      });
    });

    test('when session close passes claim the mark they emit through, the first claim of an emitted end holds, a later one replaces it, and a stale one gets nothing', async () => {
      await fixture.store.raisePipeline(pipeline, { closedWatermark: 100 });
      expect(await fixture.store.claimSessionPass(pipeline, -Infinity, 80)).toBe(80);
      // A pass that read the same emitted end later (a higher mark) emits through the first claim's.
      expect(await fixture.sibling().claimSessionPass(pipeline, -Infinity, 95)).toBe(80);
      expect(await fixture.store.claimSessionPass(pipeline, -Infinity, 80)).toBe(80);
      expect(await fixture.sibling().claimSessionPass(pipeline, 50, Infinity)).toBe(Infinity);
      // Stored capped, as the marks are.
      expect(await fixture.store.claimSessionPass(pipeline, 50, 70)).toBe(Number.MAX_SAFE_INTEGER);
      expect(await fixture.store.claimSessionPass(pipeline, -Infinity, 60)).toBeUndefined();
      expect(await fixture.store.claimSessionPass(pipeline, 20, 60)).toBeUndefined();
      await expect(fixture.store.claimSessionPass(pipeline, 60, 60)).rejects.toThrow('end must be');
      // A view older than the stored emitted end gets nothing, though no claim of a later end is stored.
      await fixture.store.raisePipeline(pipeline, { emittedEnd: 90 });
      expect(await fixture.sibling().claimSessionPass(pipeline, 80, 100)).toBeUndefined();
      expect(await fixture.sibling().claimSessionPass(pipeline, 90, 100)).toBe(100);
      // The marks are the close passes' own to raise.
      expect((await fixture.sibling().readProgress(pipeline)).pipeline).toEqual({
        pipeline,
        closedWatermark: 100,
        emittedThrough: -Infinity,
        emittedEnd: 90,
      });
    });

    test('when a segment is larger than one item, it is stored in chunks and read back whole, in commit order', async () => {
      let version = 0;
      for (const [commit, bytes] of [
        [1, 10],
        [2, SEGMENT_CHUNK_BYTES * 2 + 5],
        [3, 7],
      ] as const) {
        await commitWithSegment(
          fixture.store,
          {
            progress: progress(pipeline, { commits: commit, version: version + 1 }),
            expectedVersion: version === 0 ? undefined : version,
            ...(version === 0 ? { closedWatermarkRead: -Infinity } : {}),
          },
          segment(pipeline, commit, bytes),
        );
        version += 1;
      }
      const shard = await stored(fixture.sibling(), pipeline);
      const read = await fixture.sibling().readSegments(shard, 1, 3);
      expect(read.map((s) => [s.commit, s.body.byteLength, s.judgedBy])).toEqual([
        [1, 10, 1_780_000_000_000],
        [2, SEGMENT_CHUNK_BYTES * 2 + 5, Number.MAX_SAFE_INTEGER],
        [3, 7, -Infinity],
      ]);
      expect(
        Buffer.from(read[1]!.body).equals(
          Buffer.from(segment(pipeline, 2, SEGMENT_CHUNK_BYTES * 2 + 5).body),
        ),
      ).toBe(true);
      expect(read[0]).toMatchObject({
        firstSequence: padSequence('10'),
        lastSequence: padSequence('19'),
        ttl: 2_000_000_000,
      });
      expect((await fixture.sibling().readSegments(shard, 2, 2)).map((s) => s.commit)).toEqual([2]);
      expect(await fixture.sibling().readSegments(shard, 4, 9)).toEqual([]);
    });

    test('when a segment would exceed the limit of one commit, it is refused before the call and nothing is written', async () => {
      const store = fixture.store;
      const before = store.stats.requests;
      await expect(store.writeSegment(segment(pipeline, 1, MAX_TRANSACTION_BYTES))).rejects.toThrow(
        StateLimitError,
      );
      expect(store.stats.requests).toBe(before);
      expect((await fixture.sibling().readProgress(pipeline)).shards).toEqual([]);
    });

    test('when a segment write was left behind by a crash before its commit, the next write takes the next attempt and readers see only the committed one', async () => {
      await fixture.store.commit({
        progress: progress(pipeline),
        expectedVersion: undefined,
        closedWatermarkRead: -Infinity,
      });
      const orphan = await fixture.store.writeSegment(segment(pipeline, 1, 99));
      expect(orphan.attempt).toBe(0);
      // Not committed: no reader sees it.
      expect(await fixture.sibling().readSegments(await stored(fixture.store, pipeline), 1, 1)).toEqual([]);
      const committed = await commitWithSegment(
        fixture.sibling(),
        { progress: progress(pipeline, { version: 2, commits: 1 }), expectedVersion: 1 },
        segment(pipeline, 1, 64),
      );
      expect(committed.attempts).toEqual([[1, 1, 2_000_000_000]]);
      const shard = await stored(fixture.store, pipeline);
      expect(shard).toEqual(committed);
      for (const reader of [fixture.store, fixture.sibling()]) {
        expect((await reader.readSegments(shard, 1, 1)).map((s) => [s.attempt, s.body.byteLength])).toEqual([
          [1, 64],
        ]);
      }
      // Another write of commit 1 (a racing copy that read the old progress) goes past both.
      expect((await fixture.store.writeSegment(segment(pipeline, 1, 10))).attempt).toBe(2);
      expect((await fixture.sibling().readSegments(shard, 1, 1)).map((s) => s.body.byteLength)).toEqual([64]);
    });

    test("when the commit log is read, it gives each committed attempt's range and close mark, without bodies, and nothing of attempts no commit names", async () => {
      await fixture.store.commit({
        progress: progress(pipeline),
        expectedVersion: undefined,
        closedWatermarkRead: -Infinity,
      });
      // Commit 1 has a crashed attempt 0 before the committed attempt 1 (two chunks); commit 2 is attempt 0.
      await fixture.store.writeSegment({ ...segment(pipeline, 1, 99), lastSequence: padSequence('999') });
      let shard = await commitWithSegment(
        fixture.store,
        { progress: progress(pipeline, { version: 2, commits: 1 }), expectedVersion: 1 },
        segment(pipeline, 1, SEGMENT_CHUNK_BYTES + 150_000),
      );
      shard = await commitWithSegment(
        fixture.sibling(),
        { progress: { ...shard, commits: 2, version: 3 }, expectedVersion: 2 },
        segment(pipeline, 2),
      );
      // A racing copy's attempt at commit 2, never committed.
      await fixture.store.writeSegment({ ...segment(pipeline, 2), lastSequence: padSequence('25') });
      const before = fixture.store.stats.readUnits;
      for (const reader of [fixture.store, fixture.sibling()]) {
        expect(await reader.readCommitLog(shard, 1, 5)).toEqual([
          {
            commit: 1,
            firstSequence: padSequence('10'),
            lastSequence: padSequence('19'),
            judgedBy: 1_780_000_000_000,
          },
          {
            commit: 2,
            firstSequence: padSequence('20'),
            lastSequence: padSequence('29'),
            // +∞ is stored as the largest safe integer, as segments read it back (late/ names agree).
            judgedBy: Number.MAX_SAFE_INTEGER,
          },
        ]);
      }
      // Billed by the whole items it touched (half a unit per 4 KB, eventually consistent): two chunks, ~500 KB.
      expect(fixture.store.stats.readUnits - before).toBeGreaterThanOrEqual(60);
      expect(await fixture.store.readCommitLog(shard, 3, 5)).toEqual([]);
      await expect(fixture.store.readCommitLog(shard, 0, 1)).rejects.toThrow(/positive integers/);
    });

    test('when a commit names an attempt its segment is not, it is refused before the call', async () => {
      const written = await fixture.store.writeSegment(segment(pipeline, 1));
      const before = fixture.store.stats.requests;
      await expect(
        fixture.store.commit({
          progress: progress(pipeline, { commits: 1, attempts: [[1, 3, 2_000_000_000]] }),
          expectedVersion: undefined,
          closedWatermarkRead: -Infinity,
          segment: written,
        }),
      ).rejects.toThrow('A segment must be the commit its progress names');
      expect(fixture.store.stats.requests).toBe(before);
    });

    test('when the progress item would exceed its size limit, the commit is refused naming the pending windows', async () => {
      const pending = Array.from({ length: 12_000 }, (_, i) => ({
        start: i * 60_000,
        end: (i + 1) * 60_000,
        firstCommit: 1,
        lastCommit: 1,
      }));
      await expect(
        fixture.store.commit({
          progress: progress(pipeline, { pending }),
          expectedVersion: undefined,
          closedWatermarkRead: -Infinity,
        }),
      ).rejects.toThrow(/12000 windows pending/);
    });

    test('when a write carries the wrong next version, it is refused before reaching the backend', async () => {
      const before = fixture.store.stats.requests;
      await expect(
        fixture.store.commit({ progress: progress(pipeline, { version: 3 }), expectedVersion: 1 }),
      ).rejects.toThrow('Shard progress version must be 2 when writing over version 1 (given 3)');
      expect(fixture.store.stats.requests).toBe(before);
    });

    test('when a long sequence number is stored, it reads back padded and ordered', async () => {
      await fixture.store.commit({
        progress: progress(pipeline, {
          lastSequence: padSequence('49590338271490256608559692538361571095921575989136588898'),
        }),
        expectedVersion: undefined,
        closedWatermarkRead: -Infinity,
      });
      const [read] = (await fixture.sibling().readProgress(pipeline)).shards;
      expect(
        read!.lastSequence > padSequence('9959033827149025660855969253836157109592157598913658889'),
      ).toBe(true);
      expect(read!.lastSequence > NO_SEQUENCE).toBe(true);
    });
  });
}
