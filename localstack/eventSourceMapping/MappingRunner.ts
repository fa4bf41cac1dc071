import { randomUUID } from 'node:crypto';
import { BatchProcessor } from './BatchProcessor';
import { ShardPoller } from './ShardPoller';
import { Signal } from './Signal';
import { streamRecordFilter } from './filterCriteria';
import type { EventContext } from './kinesisEvent';
import {
  STARTING_POSITION,
  type CheckpointStore,
  type FailureDestination,
  type FunctionDefinition,
  type InvocationHooks,
  type Invoker,
  type KinesisReader,
  type ShardDescription,
  type ShardIteratorRequest,
  type ShardLag,
} from './types';
import type { ResolvedMappingConfig } from './validateConfig';

export interface MappingRunnerOptions {
  readonly config: ResolvedMappingConfig;
  readonly fn: FunctionDefinition;
  readonly reader: KinesisReader;
  readonly invoker: Invoker;
  readonly checkpoints: CheckpointStore;
  readonly destination?: FailureDestination;
  readonly hooks?: InvocationHooks;
  readonly now: () => number;
  readonly pollIntervalMs: number;
  readonly shardDiscoveryIntervalMs: number;
  readonly retryBackoffMs: number;
  readonly maxBufferedRecords: number;
  readonly tick: () => number;
  readonly onActivity: () => void;
  readonly log: (message: string) => void;
}

/**
 * Runs one event source mapping: lists the stream's shards periodically and starts a poller for each
 * shard whose parents (after a split or merge) are fully processed, so children are read only after
 * their parents, like Lambda.
 */
export class MappingRunner {
  private readonly pollers = new Map<string, ShardPoller>();
  private readonly endedShards = new Set<string>();
  private readonly waiting = new Map<string, ShardDescription>();
  private readonly wake = new Signal();
  /** Wakes retry back-offs when the runner stops. */
  private readonly stopSignal = new Signal();
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private lastDiscoveryTick = -1;
  private mappingKnownAtStart = false;
  /** Checkpoints are stored under the mapping UUID plus the stream's creation time. */
  private checkpointKey: string;
  private initialShards: Set<string> | undefined;
  /** Epoch ms when this runner started: where a LATEST mapping's position stays fixed. */
  private startedAt = 0;

  public constructor(private readonly options: MappingRunnerOptions) {
    this.checkpointKey = options.config.uuid;
  }

  public get uuid(): string {
    return this.options.config.uuid;
  }

  public async start(): Promise<void> {
    const { checkpoints, config, reader } = this.options;
    this.startedAt = this.options.now();
    let createdAt: number | undefined;
    try {
      createdAt = await reader.streamCreatedAt?.(config.eventSourceArn);
    } catch (error) {
      this.options.log(`cannot describe ${config.eventSourceArn}: ${String(error)}`);
    }
    if (createdAt !== undefined) this.checkpointKey = `${config.uuid}@${createdAt}`;
    this.mappingKnownAtStart = await checkpoints.hasMapping(this.checkpointKey);
    await checkpoints.markMapping(this.checkpointKey);
    this.loop = this.discoveryLoop();
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    this.wake.notify();
    this.stopSignal.notify();
    await this.loop;
    await Promise.all([...this.pollers.values()].map((p) => p.stop()));
  }

  /** Runs shard discovery now instead of at the next interval (so `idle()` need not wait for it). */
  public nudge(): void {
    this.wake.notify();
  }

  public isQuietSince(tick: number): boolean {
    if (this.lastDiscoveryTick <= tick) return false;
    for (const shard of this.waiting.values()) if (this.parentsDone(shard)) return false;
    return [...this.pollers.values()].every((p) => p.isQuietSince(tick));
  }

  public lag(): ShardLag[] {
    const name = this.options.fn.functionName;
    const out = [...this.pollers.values()].map((p) => p.lag(name));
    for (const shard of this.waiting.values()) {
      out.push({
        mappingUuid: this.uuid,
        functionName: name,
        shardId: shard.shardId,
        state: 'waiting-for-parents',
        iteratorAgeMs: 0,
        pendingRecords: 0,
      });
    }
    return out;
  }

  private async discoveryLoop(): Promise<void> {
    while (!this.stopped) {
      const tick = this.options.tick();
      try {
        await this.discover();
        this.lastDiscoveryTick = tick;
        this.options.onActivity();
      } catch (error) {
        this.options.log(`ListShards for ${this.options.config.eventSourceArn} failed: ${String(error)}`);
      }
      await this.wake.wait(this.options.shardDiscoveryIntervalMs);
    }
  }

  private parentsDone(shard: ShardDescription): boolean {
    const parents = [shard.parentShardId, shard.adjacentParentShardId].filter(
      (p): p is string => p !== undefined,
    );
    // A parent that is no longer listed has aged out of the stream: nothing of it is left to read.
    return parents.every((p) => this.endedShards.has(p) || !this.knownShards.has(p));
  }

  private knownShards = new Set<string>();

  private async discover(): Promise<void> {
    const { reader, config, checkpoints } = this.options;
    const shards = await reader.listShards(config.eventSourceArn);
    this.knownShards = new Set(shards.map((s) => s.shardId));
    const firstListing = this.initialShards === undefined;
    if (firstListing) this.initialShards = new Set(this.knownShards);
    for (const shard of shards) {
      if (this.pollers.has(shard.shardId) || this.endedShards.has(shard.shardId)) continue;
      const saved = await checkpoints.get(this.checkpointKey, shard.shardId);
      if (saved?.ended === true) {
        this.endedShards.add(shard.shardId);
        continue;
      }
      const fromConfiguredPosition =
        !this.mappingKnownAtStart && (this.initialShards?.has(shard.shardId) ?? false);
      if (
        fromConfiguredPosition &&
        config.startingPosition === STARTING_POSITION.LATEST &&
        shard.endingSequenceNumber !== undefined
      ) {
        // LATEST on a closed shard: there is nothing after its tip, so it counts as processed.
        this.endedShards.add(shard.shardId);
        await checkpoints.put(this.checkpointKey, shard.shardId, { ended: true });
        continue;
      }
      this.waiting.set(shard.shardId, shard);
    }
    // Start every waiting shard whose parents are done; repeat because starting can only happen in order.
    for (const shard of [...this.waiting.values()]) {
      if (!this.parentsDone(shard)) continue;
      this.waiting.delete(shard.shardId);
      const fromConfiguredPosition =
        !this.mappingKnownAtStart && (this.initialShards?.has(shard.shardId) ?? false);
      const position: ShardIteratorRequest = fromConfiguredPosition
        ? this.configuredPosition()
        : { type: 'TRIM_HORIZON' };
      this.startPoller(shard, position, this.fixed(position));
    }
  }

  /**
   * `position` fixed in time: LATEST becomes AT_TIMESTAMP of the runner's start, so a shard read again before
   * its first record (an error, a restart) does not skip what was written since (Lambda fixes LATEST when
   * the mapping is created).
   */
  private fixed(position: ShardIteratorRequest): ShardIteratorRequest {
    return position.type === 'LATEST' ? { type: 'AT_TIMESTAMP', timestamp: this.startedAt } : position;
  }

  private configuredPosition(): ShardIteratorRequest {
    const { config } = this.options;
    if (config.startingPosition === STARTING_POSITION.AT_TIMESTAMP) {
      return { type: 'AT_TIMESTAMP', timestamp: (config.startingPositionTimestamp ?? 0) * 1000 };
    }
    return { type: config.startingPosition };
  }

  private startPoller(
    shard: ShardDescription,
    initialPosition: ShardIteratorRequest,
    resumePosition: ShardIteratorRequest,
  ): void {
    const o = this.options;
    const context: EventContext = {
      shardId: shard.shardId,
      streamArn: o.config.eventSourceArn,
      region: o.fn.region,
      invokeIdentityArn: o.fn.roleArn,
    };
    const filter = streamRecordFilter(o.config.filterPatterns, o.config.eventSourceArn);
    const poller = new ShardPoller({
      config: o.config,
      shard,
      initialPosition,
      resumePosition,
      reader: o.reader,
      checkpoints: o.checkpoints,
      checkpointKey: this.checkpointKey,
      ...(filter === undefined ? {} : { filter }),
      pollIntervalMs: o.pollIntervalMs,
      maxBufferedRecords: o.maxBufferedRecords,
      now: o.now,
      tick: o.tick,
      onActivity: o.onActivity,
      log: o.log,
      onEnded: (shardId) => {
        this.endedShards.add(shardId);
        this.wake.notify();
      },
      processorFor: (markDone) => {
        const processor = new BatchProcessor({
          config: o.config,
          fn: o.fn,
          context,
          invoker: o.invoker,
          ...(o.hooks === undefined ? {} : { hooks: o.hooks }),
          ...(o.destination === undefined ? {} : { destination: o.destination }),
          now: o.now,
          newRequestId: randomUUID,
          onDone: markDone,
          isStopped: () => this.stopped,
          backoff: (attempt) => this.stopSignal.wait(Math.min(o.retryBackoffMs * 2 ** (attempt - 1), 10_000)),
          log: o.log,
        });
        return processor;
      },
    });
    this.pollers.set(shard.shardId, poller);
    poller.start();
  }
}
