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
  type ShardCheckpoint,
  type ShardDescription,
  type ShardIteratorRequest,
  type ShardLag,
} from './types';
import type { ResolvedMappingConfig } from './validateConfig';

const TRIM_HORIZON = {
  initial: { type: 'TRIM_HORIZON' },
  resume: { type: 'TRIM_HORIZON' },
} as const satisfies Record<string, ShardIteratorRequest>;

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
  /** Whether this run has marked the mapping known (after a listing saved its shards' starts). */
  private markedKnown = false;
  /** Checkpoints are stored under the mapping UUID plus the stream's creation time. */
  private checkpointKey: string;
  private initialShards: Set<string> | undefined;
  /** Epoch ms when this runner started: where a LATEST mapping's position stays fixed. */
  private startedAt = 0;
  private keyResolved = false;
  private nudged = false;
  /** Where each shard not started yet is first read from, and read again from until its first record. */
  private readonly positions = new Map<
    string,
    { readonly initial: ShardIteratorRequest; readonly resume: ShardIteratorRequest }
  >();

  public constructor(private readonly options: MappingRunnerOptions) {
    this.checkpointKey = options.config.uuid;
  }

  public get uuid(): string {
    return this.options.config.uuid;
  }

  public async start(): Promise<void> {
    this.startedAt = this.options.now();
    this.loop = this.discoveryLoop();
  }

  /**
   * Finds the key of this mapping's checkpoints (the stream's creation time names its incarnation). A failed
   * describe throws, and the discovery loop tries again: a transient error must not change the key, or the
   * saved checkpoints would be ignored.
   */
  private async resolveCheckpointKey(): Promise<void> {
    const { checkpoints, config, reader } = this.options;
    const createdAt = await reader.streamCreatedAt?.(config.eventSourceArn);
    if (createdAt !== undefined) this.checkpointKey = `${config.uuid}@${createdAt}`;
    this.mappingKnownAtStart = await checkpoints.hasMapping(this.checkpointKey);
    // Marked known only once its first listing has saved each shard's start (`discover`): a run that never
    // listed its shards (the emulator not up) leaves it unknown, and the next run starts it from the configured
    // position, not from TRIM_HORIZON (which would replay a LATEST mapping's history).
    this.keyResolved = true;
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
    this.nudged = true;
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
      this.nudged = false;
      const tick = this.options.tick();
      try {
        if (!this.keyResolved) await this.resolveCheckpointKey();
        await this.discover();
        this.lastDiscoveryTick = tick;
        this.options.onActivity();
      } catch (error) {
        this.options.log(
          `describing ${this.options.config.eventSourceArn} failed, retrying: ${String(error)}`,
        );
      }
      // A nudge during this round (idle() asking from a later tick) runs the next one at once.
      if (!this.nudged) await this.wake.wait(this.options.shardDiscoveryIntervalMs);
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
      if (!this.positions.has(shard.shardId))
        this.positions.set(
          shard.shardId,
          await this.positionsOf(shard.shardId, saved, fromConfiguredPosition),
        );
      this.waiting.set(shard.shardId, shard);
    }
    if (!this.markedKnown) {
      await checkpoints.markMapping(this.checkpointKey);
      this.markedKnown = true;
    }
    // Start every waiting shard whose parents are done; repeat because starting can only happen in order.
    for (const shard of [...this.waiting.values()]) {
      if (!this.parentsDone(shard)) continue;
      this.waiting.delete(shard.shardId);
      const position = this.positions.get(shard.shardId) ?? TRIM_HORIZON;
      this.positions.delete(shard.shardId);
      this.startPoller(shard, position.initial, position.resume);
    }
  }

  /**
   * Where a shard starts: the start saved by an earlier run (until its first checkpoint), else the configured
   * position for a shard of the mapping's first listing (saved, fixed in time, so that a restart before the
   * first checkpoint starts there too, not at TRIM_HORIZON), else TRIM_HORIZON (a shard made later).
   */
  private async positionsOf(
    shardId: string,
    saved: ShardCheckpoint | undefined,
    fromConfiguredPosition: boolean,
  ): Promise<{ initial: ShardIteratorRequest; resume: ShardIteratorRequest }> {
    if (saved?.start !== undefined) return { initial: saved.start, resume: saved.start };
    if (!fromConfiguredPosition || saved !== undefined) return TRIM_HORIZON;
    const initial = this.configuredPosition();
    const resume = this.fixed(initial);
    // TRIM_HORIZON is where a restart starts a shard without checkpoint anyway.
    if (resume.type !== 'TRIM_HORIZON')
      await this.options.checkpoints.put(this.checkpointKey, shardId, { ended: false, start: resume });
    return { initial, resume };
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
