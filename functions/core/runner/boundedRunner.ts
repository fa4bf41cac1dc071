/**
 * Bounded (in-memory) runs: the same apply and close path as the Lambda handler (`BatchProcessor` with its
 * `WindowCloser` or `SessionCloser`), over in-memory stores, so an in-memory run and a run through the stack
 * give the same rows by construction.
 */
import { compareKeys } from '../keyOrder';
import type { CompiledPipeline } from '../engine/CompiledPipeline';
import { InvalidOptionError } from '../errors';
import { BatchProcessor } from '../state/BatchProcessor';
import { InMemoryObjectStore } from '../state/InMemoryObjectStore';
import { InMemoryStateStore, InMemoryStateTables } from '../state/InMemoryStateStore';
import { BUCKET_PREFIX } from '../constants';
import { padSequence } from '../sequence';
import type { PublishEntry } from '../engine/streamTap';
import type { RejectedResult } from '../state/resultPublishing';
import type { ResultEncoder } from '../state/types';
import type { LateRecord, RawRecord, Rejection, ResultRow } from '../types';

/** Options of {@link runBounded}. */
export interface BoundedRunOptions {
  /**
   * Records per batch (one Lambda invocation). Lateness is decided per batch against the close mark before
   * it, as in the stack; the default mirrors the Kinesis event source mapping default.
   * @default 100
   */
  readonly batchSize?: number;
  /** Shard id given to plain JSON values. @default 'bounded-0' */
  readonly shardId?: string;
  /**
   * Shards known up front: each holds the watermark back from the start, even before its first record (as the
   * stack's tick registers the stream's shards). Otherwise shards count from their first record.
   */
  readonly shards?: readonly string[];
}

/** What a bounded run produces. */
export interface BoundedRunResult {
  /** One row per closed window, ordered by window start, window end, then key. */
  readonly rows: ResultRow[];
  /** Rejected input records, by shard then sequence number. */
  readonly rejected: Rejection[];
  /** Late records, by shard then sequence number. */
  readonly late: LateRecord[];
  /** Producer duplicates `dedupeBy` dropped (each extra copy once). */
  readonly duplicates: number;
  /**
   * What `.toStream()` or `.sink({ toStream })` published, in order (empty without either): each value or
   * result row once, as a Kinesis record's partition key and JSON data, which a downstream pipeline's bounded
   * run reads.
   */
  readonly published: PublishEntry[];
  /**
   * Result rows `.sink({ toStream })` could not publish (over the Kinesis record limit), each once, by window
   * start then key: their dead letters (`rejected-results/<table>/` on the stack). Their rows are in `rows`; they
   * are results, not input records, so `rejected` does not hold them. Empty when nothing is published.
   */
  readonly resultsDeadLettered: RejectedResult[];
}

/**
 * Arrival time given to plain JSON values (they have none): the last millisecond of year 9999, so no value is
 * ahead of its arrival and the watermark follows event time alone.
 */
const VALUE_ARRIVAL = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** The wall clock of a bounded run: processing time does not pass, so no shard ever counts as idle. */
const BOUNDED_NOW = Date.UTC(2000, 0, 1);

/**
 * Runs a pipeline over bounded input in memory. Input is an iterable of JSON values (given positions on one
 * shard, in order) or of {@link RawRecord}s (decoded like Kinesis records; several shards allowed). Each batch
 * of `batchSize` is applied like one Lambda invocation (prepare → combine → commit → close what became due);
 * at the end of input the watermark jumps to +∞ and every window closes.
 *
 * @example
 * const { rows } = await runBounded(pageActivity, events);
 */
export async function runBounded<T>(
  pipeline: CompiledPipeline<T>,
  input: Iterable<unknown> | Iterable<RawRecord>,
  options: BoundedRunOptions = {},
): Promise<BoundedRunResult> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidOptionError(`batchSize must be a positive integer (given ${batchSize})`);
  const shardId = options.shardId ?? 'bounded-0';
  const objects = new InMemoryObjectStore();
  const emitted = new ResultCapture();
  const published: PublishEntry[] = [];
  const stream = pipeline.spec.publish?.stream;
  const results = pipeline.spec.sink?.toStream;
  const capture = (to: string) => ({
    stream: to,
    publish: async (entries: readonly PublishEntry[]) => void published.push(...entries),
  });
  const processor = new BatchProcessor(
    {
      pipeline,
      store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
      objects,
      encoder: emitted,
      clock: { now: () => BOUNDED_NOW },
      ...(stream === undefined ? {} : { publisher: capture(stream) }),
      ...(results === undefined ? {} : { resultPublisher: capture(results) }),
    },
    { maxEmitPerPass: 10_000 },
  );
  if (options.shards !== undefined && options.shards.length > 0)
    await processor.tick(undefined, { shardIds: options.shards });
  let duplicates = 0;
  let batch: RawRecord[] = [];
  const apply = async (): Promise<void> => {
    duplicates += (await processor.apply(batch)).duplicateEvents;
    batch = [];
  };
  let sequence = 0;
  // Kinesis hands a shard's records over in sequence order; a record at or below its shard's position would be
  // skipped as a redelivery and vanish from every count, so input out of order is refused instead.
  const lastOf = new Map<string, string>();
  for (const item of input as Iterable<unknown>) {
    const record = isRawRecord(item) ? item : valueRecord(item, shardId, ++sequence);
    const position = padSequence(record.sequenceNumber);
    const previous = lastOf.get(record.shardId);
    if (previous !== undefined && position <= previous)
      throw new InvalidOptionError(
        `records of shard ${record.shardId} must come in increasing sequence number order (${record.sequenceNumber} after ${previous.replace(/^0+(?=\d)/, '')})`,
      );
    lastOf.set(record.shardId, position);
    batch.push(record);
    if (batch.length >= batchSize) await apply();
  }
  if (batch.length > 0) await apply();
  while ((await processor.tick(Number.POSITIVE_INFINITY)).windowsEmitted > 0);
  // A publish-only pipeline (no columns) has no rows.
  const keyColumn = pipeline.spec.columns[0]?.name;
  return {
    rows: keyColumn === undefined ? [] : emitted.rows(objects, keyColumn),
    rejected: bySequence(objects.jsonLines<Rejection>(BUCKET_PREFIX.REJECTED)),
    late: bySequence(objects.jsonLines<LateRecord>(BUCKET_PREFIX.LATE)),
    duplicates,
    published,
    resultsDeadLettered: objects
      .jsonLines<RejectedResult>(BUCKET_PREFIX.REJECTED_RESULTS)
      .sort((a, b) => a.windowStart - b.windowStart || compareKeys(a.key, b.key)),
  };
}

/** A plain JSON value as the Kinesis record a producer would have put (its JSON, base64). */
function valueRecord(value: unknown, shardId: string, sequence: number): RawRecord {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined; // not JSON (a BigInt, a cycle): rejected as a payload that is not JSON
  }
  return {
    shardId,
    sequenceNumber: String(sequence),
    partitionKey: '',
    data: Buffer.from(json ?? '', 'utf8').toString('base64'),
    approximateArrivalTimestamp: VALUE_ARRIVAL,
  };
}

/**
 * The result encoder of a bounded run: keeps each object's rows as the closer built them (no Parquet round
 * trip), and writes a token naming them as the object's body.
 */
class ResultCapture implements ResultEncoder {
  public readonly contentType = 'application/x-shardflow-bounded';
  public readonly extension = 'rows';
  readonly #written: (readonly ResultRow[])[] = [];

  public encode(_columns: unknown, rows: readonly ResultRow[]): Uint8Array {
    this.#written.push(rows);
    return new TextEncoder().encode(String(this.#written.length - 1));
  }

  /** The rows of every result object in the store, by window start, window end, then key. */
  public rows(objects: InMemoryObjectStore, keyColumn: string): ResultRow[] {
    const rows = [...objects.objects.keys()]
      .filter((key) => key.startsWith(BUCKET_PREFIX.RESULTS))
      .flatMap((key) => this.#written[Number(objects.text(key))] ?? []);
    const num = (row: ResultRow, column: string): number => Number(row[column]);
    return rows.sort((a, b) => {
      const byWindow =
        num(a, 'window_start') - num(b, 'window_start') || num(a, 'window_end') - num(b, 'window_end');
      if (byWindow !== 0) return byWindow;
      return compareKeys(String(a[keyColumn]), String(b[keyColumn]));
    });
  }
}

/** Records by shard, then sequence number (numerically), then sub-sequence number. */
function bySequence<T extends { shardId: string; sequenceNumber: string; subSequenceNumber?: number }>(
  records: T[],
): T[] {
  const padded = (r: T): string => padSequence(r.sequenceNumber);
  return records.sort((a, b) =>
    a.shardId < b.shardId
      ? -1
      : a.shardId > b.shardId
        ? 1
        : padded(a) < padded(b)
          ? -1
          : padded(a) > padded(b)
            ? 1
            : (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0),
  );
}

function isRawRecord(item: unknown): item is RawRecord {
  if (item === null || typeof item !== 'object') return false;
  const r = item as Record<string, unknown>;
  return (
    typeof r['shardId'] === 'string' &&
    typeof r['sequenceNumber'] === 'string' &&
    typeof r['data'] === 'string' &&
    typeof r['partitionKey'] === 'string' &&
    typeof r['approximateArrivalTimestamp'] === 'number'
  );
}
