import { iteratorAgeMs } from './iteratorAge';
import { createHash } from 'node:crypto';
import { ESM_LIMITS } from './constants';
import { Signal } from './Signal';
import type { BatchProcessor } from './BatchProcessor';
import type {
  CheckpointStore,
  KinesisReader,
  KinesisRecordData,
  ShardDescription,
  ShardIteratorRequest,
  ShardLag,
} from './types';
import type { ResolvedMappingConfig } from './validateConfig';

/** Delivers the batches of one sub-partition (a `BatchProcessor`). */
export type ProcessBatch = Pick<BatchProcessor, 'process' | 'finalizeWindow' | 'window'>;

export interface ShardPollerOptions {
  readonly config: ResolvedMappingConfig;
  readonly shard: ShardDescription;
  /** Where to start when the shard has no checkpoint. */
  readonly initialPosition: ShardIteratorRequest;
  /**
   * Where to start again when the iterator is lost before a record was read (no checkpoint yet): the initial
   * position fixed in time, so LATEST stays where the tip was when the mapping started. @default initialPosition
   */
  readonly resumePosition?: ShardIteratorRequest;
  readonly reader: KinesisReader;
  readonly checkpoints: CheckpointStore;
  /** Key of this mapping's checkpoints (the mapping UUID, per stream incarnation). */
  readonly checkpointKey: string;
  /**
   * The mapping's filter criteria over the source's filter view (`streamRecordFilter`); absent without patterns
   * (every record is delivered, no view is built).
   */
  readonly filter?: (record: KinesisRecordData) => boolean;
  /** Builds the batch processor of one sub-partition; `markDone` must be called for every record. */
  readonly processorFor: (markDone: (records: readonly KinesisRecordData[]) => void) => ProcessBatch;
  readonly pollIntervalMs: number;
  readonly maxBufferedRecords: number;
  /** Epoch ms (tumbling window ends). */
  readonly now: () => number;
  /** Monotonic counter shared by the runtime, used by `idle()` to ask "quiet since when?". */
  readonly tick: () => number;
  readonly onEnded: (shardId: string) => void;
  readonly onActivity: () => void;
  readonly log: (message: string) => void;
}

/** Picks the sub-partition of a record: one partition key always maps to the same one. */
export function subPartitionOf(partitionKey: string, factor: number): number {
  if (factor <= 1) return 0;
  return createHash('md5').update(partitionKey).digest().readUInt32BE(0) % factor;
}

class SubPartition {
  public readonly buffer: KinesisRecordData[] = [];
  public readonly signal = new Signal();
  public inFlight = false;
  public processor: ProcessBatch | undefined;
  /** performance.now() when the buffer last went from empty to non-empty. */
  public firstBufferedAt = 0;
}

/**
 * Reads one shard and feeds its records to ParallelizationFactor sub-partitions, each delivering
 * its batches in order (so per-partition-key order is kept). Tracks which records are done and
 * checkpoints the highest sequence number below which everything is done.
 */
export class ShardPoller {
  private readonly subPartitions: SubPartition[];
  /** Read records, in read order → done? */
  private readonly pending = new Map<string, boolean>();
  /** Arrival time (epoch ms) of each pending record, for the iterator age. */
  private readonly arrivals = new Map<string, number>();
  private readonly stopSignal = new Signal();
  private stopped = false;
  private readEnded = false;
  private ended = false;
  private iteratorAgeMs = 0;
  private lastQuietPollTick = -1;
  /** The last GetRecords returned nothing and was not behind the tip. */
  private atTip = false;
  private lastReadSequence: string | undefined;
  /** An iterator was taken at the initial position (later ones start at `resumePosition`). */
  private iteratorTaken = false;
  private checkpoint: string | undefined;
  private checkpointWrite: Promise<void> = Promise.resolve();
  private loops: Promise<void>[] = [];
  /**
   * Records asked for per GetRecords: one batch per sub-partition (at most GetRecords' 10,000), so the first
   * batch is invoked as soon as it is read while the next ones are read behind it (read-ahead).
   */
  private readonly readLimit: number;

  public constructor(private readonly options: ShardPollerOptions) {
    this.subPartitions = Array.from(
      { length: options.config.parallelizationFactor },
      () => new SubPartition(),
    );
    this.readLimit = Math.min(
      ESM_LIMITS.GET_RECORDS_LIMIT,
      options.config.batchSize * options.config.parallelizationFactor,
    );
  }

  public get shardId(): string {
    return this.options.shard.shardId;
  }

  public start(): void {
    this.loops = [this.readLoop(), ...this.subPartitions.map((sub) => this.deliverLoop(sub))];
    for (const loop of this.loops) {
      loop.catch((error: unknown) => this.options.log(`shard ${this.shardId} loop failed: ${String(error)}`));
    }
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.notify();
    for (const sub of this.subPartitions) sub.signal.notify();
    await Promise.allSettled(this.loops);
    await this.checkpointWrite;
  }

  /** True when the shard is ended, or a poll that started after `tick` found nothing new and nothing is pending. */
  public isQuietSince(tick: number): boolean {
    if (this.ended) return true;
    return (
      this.lastQuietPollTick > tick &&
      this.pending.size === 0 &&
      this.subPartitions.every((s) => !s.inFlight && s.buffer.length === 0)
    );
  }

  public lag(functionName: string): ShardLag {
    return {
      mappingUuid: this.options.config.uuid,
      functionName,
      shardId: this.shardId,
      state: this.ended ? 'ended' : 'polling',
      iteratorAgeMs: iteratorAgeMs(
        this.options.now(),
        this.arrivals.get(this.pending.keys().next().value ?? ''),
        this.iteratorAgeMs,
      ),
      pendingRecords: this.pending.size,
      ...(this.checkpoint === undefined ? {} : { checkpoint: this.checkpoint }),
    };
  }

  private async initialIterator(): Promise<string> {
    const { reader, config, checkpoints } = this.options;
    const saved = await checkpoints.get(this.options.checkpointKey, this.shardId);
    this.checkpoint = saved?.sequenceNumber;
    const request: ShardIteratorRequest =
      this.lastReadSequence !== undefined
        ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: this.lastReadSequence }
        : saved?.sequenceNumber !== undefined
          ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: saved.sequenceNumber }
          : this.iteratorTaken
            ? (this.options.resumePosition ?? this.options.initialPosition)
            : this.options.initialPosition;
    const iterator = await reader.getShardIterator(config.eventSourceArn, this.shardId, request);
    this.iteratorTaken = true;
    return iterator;
  }

  private async readLoop(): Promise<void> {
    const { reader, pollIntervalMs } = this.options;
    let iterator: string | undefined;
    while (!this.stopped) {
      if (
        this.pending.size >= this.options.maxBufferedRecords ||
        (this.atTip && this.subPartitions.every((s) => s.buffer.length >= this.options.config.batchSize))
      ) {
        // At the tip with a full batch already waiting in every sub-partition, another poll could only
        // add records to later batches: skip it (an empty GetRecords still costs the emulator a scan).
        await this.stopSignal.wait(pollIntervalMs);
        continue;
      }
      const tick = this.options.tick();
      let result;
      try {
        iterator ??= await this.initialIterator();
        result = await reader.getRecords(iterator, this.readLimit);
      } catch (error) {
        // Expired iterators, throttling, emulator restarts: start again after the last record read.
        this.options.log(`GetRecords on ${this.shardId} failed, retrying: ${String(error)}`);
        iterator = undefined;
        await this.stopSignal.wait(pollIntervalMs);
        continue;
      }
      if (this.stopped) break;
      this.iteratorAgeMs = result.millisBehindLatest;
      this.atTip = result.records.length === 0 && result.millisBehindLatest === 0;
      this.accept(result.records);
      if (result.nextShardIterator === undefined) {
        this.readEnded = true;
        for (const sub of this.subPartitions) sub.signal.notify();
        this.maybeEnd();
        return;
      }
      iterator = result.nextShardIterator;
      if (result.records.length === 0) {
        if (result.millisBehindLatest > 0) {
          // An empty page while behind the tip (a gap in the shard): read on at once, like the KCL.
          await this.stopSignal.wait(10);
          continue;
        }
        this.lastQuietPollTick = tick;
        this.options.onActivity();
        await this.stopSignal.wait(pollIntervalMs);
      }
    }
  }

  private accept(records: readonly KinesisRecordData[]): void {
    const filteredOut: KinesisRecordData[] = [];
    for (const record of records) {
      this.lastReadSequence = record.sequenceNumber;
      this.pending.set(record.sequenceNumber, false);
      this.arrivals.set(record.sequenceNumber, record.approximateArrivalTimestamp);
      // Building the filter view parses each record's data: only a mapping with patterns pays for it.
      if (this.options.filter !== undefined && !this.options.filter(record)) {
        filteredOut.push(record);
        continue;
      }
      const sub = this.subPartitions[
        subPartitionOf(record.partitionKey, this.subPartitions.length)
      ] as SubPartition;
      if (sub.buffer.length === 0) sub.firstBufferedAt = performance.now();
      sub.buffer.push(record);
    }
    // Records that do not match the filter criteria are skipped and checkpointed past, like Lambda.
    if (filteredOut.length > 0) this.markDone(filteredOut);
    for (const sub of this.subPartitions) if (sub.buffer.length > 0) sub.signal.notify();
  }

  /** Start of the tumbling window a record belongs to (by arrival time, aligned to the epoch). */
  private windowStartOf(record: KinesisRecordData): number {
    const size = this.options.config.tumblingWindowInSeconds * 1000;
    return Math.floor(record.approximateArrivalTimestamp / size) * size;
  }

  private async deliverLoop(sub: SubPartition): Promise<void> {
    const { config } = this.options;
    const processor = this.options.processorFor((records) => this.markDone(records));
    sub.processor = processor;
    const windowMs = config.maximumBatchingWindowInSeconds * 1000;
    const tumblingMs = config.tumblingWindowInSeconds * 1000;
    let failures = 0;
    while (!this.stopped) {
      if (sub.buffer.length === 0) {
        const open = processor.window;
        if (open !== undefined && (this.readEnded || this.options.now() >= open.end)) {
          sub.inFlight = true;
          try {
            await processor.finalizeWindow();
            failures = 0;
          } catch (error) {
            // As for a batch: the window's final invocation is made again after a pause, the loop goes on.
            await this.pauseAfterFailure('final invocation of a window', error, (failures += 1));
          } finally {
            sub.inFlight = false;
          }
          this.maybeEnd();
          continue;
        }
        if (this.readEnded) return;
        await sub.signal.wait(open === undefined ? undefined : Math.max(0, open.end - this.options.now()));
        continue;
      }
      if (windowMs > 0 && sub.buffer.length < config.batchSize && !this.readEnded) {
        const remaining = sub.firstBufferedAt + windowMs - performance.now();
        if (remaining > 0) {
          await sub.signal.wait(remaining);
          continue;
        }
      }
      const batch = this.takeBatch(sub);
      sub.inFlight = true;
      try {
        if (tumblingMs > 0) {
          const start = this.windowStartOf(batch[0] as KinesisRecordData);
          if (processor.window !== undefined && processor.window.start !== start)
            await processor.finalizeWindow();
          processor.window ??= { start, end: start + tumblingMs, state: {} };
        }
        await processor.process(batch);
        failures = 0;
      } catch (error) {
        // Whatever failed, the loop goes on (Lambda does not stop a shard): the batch's records not yet done
        // are delivered again after a pause.
        sub.buffer.unshift(...batch.filter((r) => this.pending.get(r.sequenceNumber) === false));
        await this.pauseAfterFailure('batch', error, (failures += 1));
      } finally {
        sub.inFlight = false;
      }
      this.maybeEnd();
      if (sub.buffer.length > 0) sub.firstBufferedAt = performance.now();
      this.options.onActivity();
    }
  }

  /** Logs what failed and waits before it is tried again: doubling with each failure in a row, up to 10 s. */
  private async pauseAfterFailure(what: string, error: unknown, failures: number): Promise<void> {
    this.options.log(`${what} of ${this.shardId} failed, retrying: ${String(error)}`);
    await this.stopSignal.wait(Math.min(this.options.pollIntervalMs * 2 ** failures, 10_000));
  }

  /** Up to BatchSize records and at most Lambda's 6 MB payload. */
  private takeBatch(sub: SubPartition): KinesisRecordData[] {
    let bytes = 0;
    let count = 0;
    const first = sub.buffer[0];
    const tumbling = this.options.config.tumblingWindowInSeconds > 0 && first !== undefined;
    const window = tumbling ? this.windowStartOf(first) : 0;
    for (const record of sub.buffer) {
      const size = Math.ceil(record.data.length / 3) * 4 + 512;
      if (
        count >= this.options.config.batchSize ||
        (count > 0 && bytes + size > ESM_LIMITS.MAX_PAYLOAD_BYTES)
      )
        break;
      // A batch never spans two tumbling windows.
      if (tumbling && this.windowStartOf(record) !== window) break;
      bytes += size;
      count += 1;
    }
    return sub.buffer.splice(0, count);
  }

  private markDone(records: readonly KinesisRecordData[]): void {
    for (const record of records) this.pending.set(record.sequenceNumber, true);
    let advancedTo: string | undefined;
    for (const [sequence, done] of this.pending) {
      if (!done) break;
      this.pending.delete(sequence);
      this.arrivals.delete(sequence);
      advancedTo = sequence;
    }
    if (advancedTo !== undefined) {
      this.checkpoint = advancedTo;
      this.persist(false);
    }
    this.maybeEnd();
  }

  private maybeEnd(): void {
    if (!this.readEnded || this.ended || this.pending.size > 0) return;
    // A closed shard ends only after its last tumbling window's final invocation.
    if (
      this.subPartitions.some((s) => s.buffer.length > 0 || s.inFlight || s.processor?.window !== undefined)
    )
      return;
    this.ended = true;
    this.persist(true);
    void this.checkpointWrite.then(() => this.options.onEnded(this.shardId));
  }

  private persist(ended: boolean): void {
    const checkpoint = {
      ...(this.checkpoint === undefined ? {} : { sequenceNumber: this.checkpoint }),
      ended,
    };
    this.checkpointWrite = this.checkpointWrite
      .then(() => this.options.checkpoints.put(this.options.checkpointKey, this.shardId, checkpoint))
      .catch((error: unknown) => this.options.log(`checkpoint of ${this.shardId} failed: ${String(error)}`));
  }
}
