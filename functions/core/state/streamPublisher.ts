/**
 * Publishing what a committed batch produced to the pipeline's downstream stream (`.toStream()`, DESIGN.md
 * §1 and §3): at least once. The apply path calls it after a shard's commit with every value of the batch's
 * records at or below the commit point (those a redelivery skips too: an attempt may have committed and died
 * before it published), so a value is published again until one attempt's publish succeeds; its deterministic
 * id (`engine/streamTap.ts`) lets the downstream `dedupeBy` count it once. PutRecords accepts some entries and
 * refuses others (throttling, an internal failure): the refused ones are put again, with backoff, and what is
 * still refused after the last attempt fails the batch (`PublishError`), so Lambda redelivers it.
 */
import { padSequence } from '../sequence';
import type { PublishEntry } from '../engine/streamTap';
import { InvalidOptionError } from '../errors';
import type { RawRecord } from '../types';
import { PublishError } from './errors';
import type { ShardProgress, StatefulPipeline } from './types';

/** The one call publishing needs: Kinesis PutRecords (`adapters/KinesisStreamPutter.ts`). */
export interface StreamPutter {
  /**
   * Puts `entries` (at most {@link MAX_PUT_RECORDS} and {@link MAX_PUT_BYTES}) to `stream`; resolves to the
   * indexes of the entries the stream refused (PutRecords' per-record `ErrorCode`), empty when all landed.
   */
  putRecords(stream: string, entries: readonly PublishEntry[]): Promise<readonly number[]>;
}

/** Kinesis PutRecords: at most 500 records a request. */
export const MAX_PUT_RECORDS = 500;
/** Kinesis PutRecords: at most 5 MiB a request (data and partition keys). */
export const MAX_PUT_BYTES = 5 * 1024 * 1024;

/** Settings of a {@link StreamPublisher}. */
export interface StreamPublisherOptions {
  /**
   * Puts in a row that the stream takes nothing of before the batch fails (1–20); a put of which it takes
   * part starts the count again.
   * @default 8 - with the default backoff, ~5 s of waits in a row
   */
  readonly maxAttempts?: number;
  /** Wait before a put again; doubles with each further put the stream took nothing of, up to 2 s (0–10000 ms). @default 50 */
  readonly backoffMs?: number;
  /** How to wait (tests pass one that does not). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

const MAX_BACKOFF_MS = 2000;

export class StreamPublisher {
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #sleep: (ms: number) => Promise<void>;

  public constructor(
    private readonly putter: StreamPutter,
    public readonly stream: string,
    options: StreamPublisherOptions = {},
  ) {
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.#backoffMs = options.backoffMs ?? 50;
    if (!Number.isInteger(this.#maxAttempts) || this.#maxAttempts < 1 || this.#maxAttempts > 20)
      throw new InvalidOptionError(
        `maxAttempts must be an integer between 1 and 20 inclusive (given ${this.#maxAttempts})`,
      );
    if (!Number.isInteger(this.#backoffMs) || this.#backoffMs < 0 || this.#backoffMs > 10_000)
      throw new InvalidOptionError(
        `backoffMs must be an integer between 0 and 10000 inclusive (given ${this.#backoffMs})`,
      );
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Puts every entry until the stream accepted it; throws `PublishError` naming how many it refused to the
   * end. `maxAttempts` counts attempts in a row that the stream took nothing of: a stream that takes part of
   * each attempt (a shard's 1,000 records a second) is given the time it needs, so a large publish finishes
   * instead of failing at the same point on every try.
   */
  public async publish(entries: readonly PublishEntry[]): Promise<void> {
    let pending = entries;
    let lastError: unknown;
    for (let stalled = 0, attempt = 1; pending.length > 0; attempt++) {
      if (stalled >= this.#maxAttempts)
        throw new PublishError(
          `${pending.length} of ${entries.length} records to stream ${this.stream} were refused by ${this.#maxAttempts} puts in a row that it took none of; the batch is retried`,
          lastError === undefined ? undefined : { cause: lastError },
        );
      if (attempt > 1)
        await this.#sleep(Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2 ** Math.max(0, stalled - 1)));
      const refused: PublishEntry[] = [];
      for (const chunk of putChunks(pending)) {
        try {
          for (const index of await this.putter.putRecords(this.stream, chunk)) refused.push(chunk[index]!);
        } catch (error) {
          lastError = error;
          refused.push(...chunk);
        }
      }
      stalled = refused.length === pending.length ? stalled + 1 : 0;
      pending = refused;
    }
  }
}

/**
 * What a commit of `records` published (or should have: its attempt may have died before), derived again from
 * the records as that commit prepared them: prepare is a function of the records alone, except for the
 * records the commit dead-lettered `STATE_LIMIT` after preparing them, which published nothing: those the
 * shard's progress names (`stateLimited`) are left out.
 */
export function publishedAgain(
  pipeline: StatefulPipeline,
  records: readonly RawRecord[],
  stateLimited: ShardProgress['stateLimited'] = [],
): readonly PublishEntry[] {
  if (records.length === 0 || pipeline.spec.publish === undefined) return [];
  const limited = new Set(stateLimited.map(([sequence]) => sequence));
  const published =
    limited.size === 0 ? records : records.filter((r) => !limited.has(padSequence(r.sequenceNumber)));
  if (published.length === 0) return [];
  return pipeline.prepare(published, { closedWatermark: Number.NEGATIVE_INFINITY }).published;
}

/** `entries` in order, cut into PutRecords requests of at most 500 records and 5 MiB. */
export function putChunks(entries: readonly PublishEntry[]): PublishEntry[][] {
  const chunks: PublishEntry[][] = [];
  let chunk: PublishEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.data, 'utf8') + Buffer.byteLength(entry.partitionKey, 'utf8');
    if (chunk.length > 0 && (chunk.length >= MAX_PUT_RECORDS || bytes + size > MAX_PUT_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
