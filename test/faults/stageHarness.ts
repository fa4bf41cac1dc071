/**
 * What the two-stage fault tests share (`twoStages.test.ts`, `resultStages.test.ts`): a flaky two-shard stream
 * between the stages, and a stage under Lambda's delivery (redelivered, bisected, duplicated batches).
 */
import { createHash } from 'node:crypto';
import type { PublishEntry } from '../../functions/core/engine/streamTap';
import { processKinesisBatch } from '../../functions/core/state/batchResponse';
import type { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { StreamPutter } from '../../functions/core/state/streamPublisher';
import type { RawRecord } from '../../functions/core/types';
import { InjectedFault } from './faultyIo';
import type { Prng } from './prng';

const shardOf = (partitionKey: string): number =>
  Number(BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`) % 2n);

/** The `views` stream: two shards; refuses some entries of a put, and lands some puts but answers with an error. */
export class FlakyStream implements StreamPutter {
  public readonly shards: RawRecord[][] = [[], []];
  public refused = 0;
  public landedButFailed = 0;

  public constructor(
    private readonly rng: Prng,
    private readonly now: () => number,
    public faulty = true,
  ) {}

  public async putRecords(_stream: string, entries: readonly PublishEntry[]): Promise<readonly number[]> {
    const refused: number[] = [];
    entries.forEach((entry, i) => {
      if (this.faulty && this.rng.chance(0.1)) {
        this.refused += 1;
        refused.push(i);
        return;
      }
      const shard = this.shards[shardOf(entry.partitionKey)]!;
      shard.push({
        shardId: `shardId-00000000000${shardOf(entry.partitionKey)}`,
        sequenceNumber: String(shard.length + 1),
        partitionKey: entry.partitionKey,
        data: Buffer.from(entry.data).toString('base64'),
        approximateArrivalTimestamp: this.now(),
      });
    });
    if (this.faulty && this.rng.chance(0.08)) {
      this.landedButFailed += 1;
      throw new InjectedFault('injected: put landed, answer lost');
    }
    return refused;
  }
}

/** One stage under Lambda's delivery: per shard a position, batches redelivered, bisected, duplicated. */
export class Stage {
  readonly #positions: number[];
  readonly #size: number[];
  #processor: BatchProcessor;
  public invocations = 0;
  public failed = 0;
  public diedAfter = 0;
  public duplicated = 0;

  public constructor(
    private readonly rng: Prng,
    private readonly shards: () => readonly (readonly RawRecord[])[],
    private readonly newProcessor: () => BatchProcessor,
    private readonly maxBatch: number,
  ) {
    this.#positions = shards().map(() => 0);
    this.#size = shards().map(() => maxBatch);
    this.#processor = newProcessor();
  }

  public get caughtUp(): boolean {
    return this.shards().every((records, i) => this.#positions[i]! >= records.length);
  }

  public get processor(): BatchProcessor {
    return this.#processor;
  }

  /** One invocation for a random shard with records waiting. */
  public async step(): Promise<void> {
    const waiting = this.shards()
      .map((records, i) => ({ records, i }))
      .filter(({ records, i }) => this.#positions[i]! < records.length);
    if (waiting.length === 0) return;
    const { records, i } = this.rng.pick(waiting);
    const from = this.#positions[i]!;
    const batch = records.slice(from, from + this.rng.int(1, this.#size[i]!));
    this.invocations += 1;
    if (this.rng.chance(0.05)) {
      // The same batch delivered twice (a duplicate invocation).
      this.duplicated += 1;
      await processKinesisBatch(this.#processor, batch);
    }
    const { response } = await processKinesisBatch(this.#processor, batch);
    if (response.batchItemFailures.length > 0) {
      // Redelivered from its first record, halved (bisect on error), by a fresh instance.
      this.failed += 1;
      this.#size[i] = Math.max(1, Math.ceil(batch.length / 2));
      this.#processor = this.newProcessor();
      return;
    }
    if (this.rng.chance(0.05)) {
      // Died after it committed and published: Lambda redelivers the whole batch.
      this.diedAfter += 1;
      this.#processor = this.newProcessor();
      return;
    }
    this.#positions[i] = from + batch.length;
    this.#size[i] = this.maxBatch;
  }
}
