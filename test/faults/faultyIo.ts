/**
 * Fault injection at every I/O boundary of the apply path: wrappers around a `StateStore` and an
 * `ObjectStore` that, driven by a seeded PRNG, crash before or after a call (the write did or did not
 * happen, the caller cannot tell — also what a Lambda timeout looks like), throttle, stall (so that
 * concurrent invocations interleave at every step), or let a concurrent writer win a conditional write first.
 */
import type {
  CommitRange,
  ObjectStore,
  PipelineMarks,
  PipelineProgress,
  ProgressSnapshot,
  Segment,
  ShardCommit,
  ShardProgress,
  StateStore,
  StateStoreStats,
} from '../../functions/core/state/types';
import { StateLimitError } from '../../functions/core/state/errors';
import type { StateShape } from '../../functions/core/state/stateFingerprint';
import type { Prng } from './prng';

/** An injected failure (never confused with a real bug: tests count them). */
export class InjectedFault extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'InjectedFault';
  }
}

/** Probabilities per I/O call. */
export interface FaultRates {
  readonly crashBefore: number;
  readonly crashAfter: number;
  readonly throttle: number;
  /** Only for commits: another writer updates the shard's progress item just before. */
  readonly concurrentWriter: number;
  /** A call stalls for 1–20 event-loop turns before it runs (a slow request). */
  readonly stall: number;
}

export const NO_FAULTS: FaultRates = {
  crashBefore: 0,
  crashAfter: 0,
  throttle: 0,
  concurrentWriter: 0,
  stall: 0,
};

/** Shared switch and counters of one schedule. */
export class FaultPlan {
  public rates: FaultRates;
  public readonly injected: Record<string, number> = {};
  /**
   * A segment limit far below the real one (compressed segment bytes), so that batches must
   * commit in parts (the path a batch whose state does not fit one transaction takes). Only segments of more
   * than one Kinesis record are refused, so no record is dead-lettered for it and the reference stays exact.
   */
  public segmentLimit: number | undefined;

  public constructor(
    private readonly rng: Prng,
    rates: FaultRates,
  ) {
    this.rates = rates;
  }

  public async around<T>(call: string, body: () => Promise<T>): Promise<T> {
    if (this.rng.chance(this.rates.throttle)) this.fail(`throttle ${call}`, 'ThrottlingException');
    if (this.rng.chance(this.rates.crashBefore)) this.fail(`crash before ${call}`);
    if (this.rng.chance(this.rates.stall)) {
      this.count('stall');
      for (let turns = this.rng.int(1, 20); turns > 0; turns--)
        await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await body();
    if (this.rng.chance(this.rates.crashAfter)) this.fail(`crash after ${call}`);
    return result;
  }

  /** Throws the store's `StateLimitError` for a commit over `segmentLimit`, as `BaseStateStore` would. */
  public checkSegmentLimit(segment: Omit<Segment, 'attempt'>): void {
    if (this.segmentLimit === undefined) return;
    if (segment.body.byteLength <= this.segmentLimit || segment.firstSequence === segment.lastSequence)
      return;
    this.count('state limit');
    throw new StateLimitError(
      `segment of ${segment.body.byteLength} bytes over the injected limit of ${this.segmentLimit}`,
    );
  }

  public concurrentWriterWins(): boolean {
    const wins = this.rng.chance(this.rates.concurrentWriter);
    if (wins) this.count('concurrent writer');
    return wins;
  }

  private count(kind: string): void {
    this.injected[kind] = (this.injected[kind] ?? 0) + 1;
  }

  private fail(what: string, name = 'InjectedFault'): never {
    this.count(what.split(' ').slice(0, 2).join(' '));
    const error = new InjectedFault(`injected: ${what}`);
    error.name = name;
    throw error;
  }
}

export class FaultyStateStore implements StateStore {
  public constructor(
    private readonly inner: StateStore,
    private readonly plan: FaultPlan,
    /** Another instance over the same backend, playing the concurrent writer (a tick freezing the shard). */
    private readonly rival: StateStore,
  ) {}

  public get stats(): StateStoreStats {
    return this.inner.stats;
  }

  public readProgress(pipeline: string): Promise<ProgressSnapshot> {
    return this.plan.around('readProgress', () => this.inner.readProgress(pipeline));
  }

  public async commit(commit: ShardCommit): Promise<void> {
    if (commit.expectedVersion !== undefined && this.plan.concurrentWriterWins()) {
      // A rival writes the shard's progress item first (as a tick raising an idle shard's close mark
      // does): this commit must lose, read again and apply again.
      const stored = (await this.rival.readProgress(commit.progress.pipeline)).shards.find(
        (s) => s.shardId === commit.progress.shardId,
      );
      if (stored !== undefined)
        await this.rival
          .commit({ progress: { ...stored, version: stored.version + 1 }, expectedVersion: stored.version })
          .catch(() => undefined);
    }
    return this.plan.around('commit', () => this.inner.commit(commit));
  }

  public deleteSegment(segment: Segment): Promise<void> {
    return this.plan.around('deleteSegment', () => this.inner.deleteSegment(segment));
  }

  public checkSegment(segment: Omit<Segment, 'attempt'>): void {
    this.plan.checkSegmentLimit(segment);
    this.inner.checkSegment(segment);
  }

  public checkProgress(progress: ShardProgress, addsState: boolean): void {
    this.inner.checkProgress(progress, addsState);
  }

  public writeSegment(segment: Omit<Segment, 'attempt'>): Promise<Segment> {
    this.plan.checkSegmentLimit(segment);
    return this.plan.around('writeSegment', () => this.inner.writeSegment(segment));
  }

  public claimSessionPass(pipeline: string, after: number, end: number): Promise<number | undefined> {
    return this.plan.around('claimSessionPass', () => this.inner.claimSessionPass(pipeline, after, end));
  }

  public registerShape(pipeline: string, shape: StateShape): Promise<void> {
    return this.plan.around('registerShape', () => this.inner.registerShape(pipeline, shape));
  }

  public raisePipeline(pipeline: string, marks: PipelineMarks): Promise<PipelineProgress> {
    return this.plan.around('raisePipeline', () => this.inner.raisePipeline(pipeline, marks));
  }

  public readSegments(progress: ShardProgress, fromCommit: number, toCommit: number): Promise<Segment[]> {
    return this.plan.around('readSegments', () => this.inner.readSegments(progress, fromCommit, toCommit));
  }

  public readCommitLog(
    progress: ShardProgress,
    fromCommit: number,
    toCommit: number,
  ): Promise<CommitRange[]> {
    return this.plan.around('readCommitLog', () => this.inner.readCommitLog(progress, fromCommit, toCommit));
  }
}

export class FaultyObjectStore implements ObjectStore {
  public constructor(
    private readonly inner: ObjectStore,
    private readonly plan: FaultPlan,
  ) {}

  public putObject(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    return this.plan.around(`putObject ${key.split('/')[0]}`, () =>
      this.inner.putObject(key, body, contentType),
    );
  }

  public listKeys(prefix: string, startAfter?: string): Promise<string[]> {
    return this.plan.around('listKeys', () => this.inner.listKeys(prefix, startAfter));
  }

  public deleteObject(key: string): Promise<void> {
    return this.plan.around('deleteObject', () => this.inner.deleteObject(key));
  }
}
