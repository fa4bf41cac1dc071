import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { InputError, SendError } from './errors';
import type { InputRecord } from './inputFile';

/** PutRecords limits (Kinesis Data Streams quotas). */
export const PUT_RECORDS_LIMITS = {
  MAX_RECORDS: 500,
  /** Per request, data plus partition keys. */
  MAX_REQUEST_BYTES: 5 * 1024 * 1024,
  /** Per record, data plus partition key. */
  MAX_RECORD_BYTES: 1024 * 1024,
} as const;

/** Progress of {@link sendRecords}. */
export interface SendProgress {
  /** Records accepted by Kinesis so far. */
  readonly sent: number;
  readonly total: number;
  /** Entries that failed at least once and were retried. */
  readonly retried: number;
}

/** Options of {@link sendRecords}. */
export interface SendOptions {
  readonly kinesis: Pick<KinesisClient, 'send'>;
  /** Stream name or ARN. */
  readonly stream: string;
  /** Records per second over the whole run; absent means as fast as Kinesis accepts. */
  readonly rate?: number;
  /** Attempts per entry before giving up, ≥ 1. @default 8 */
  readonly maxAttempts?: number;
  readonly onProgress?: (progress: SendProgress) => void;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected for tests. @default performance.now */
  readonly now?: () => number;
}

interface Sized {
  readonly entry: PutRecordsRequestEntry;
  readonly bytes: number;
}

function encode(records: readonly InputRecord[]): Sized[] {
  const encoder = new TextEncoder();
  return records.map((record, index) => {
    const data = encoder.encode(record.data);
    const bytes = data.byteLength + Buffer.byteLength(record.partitionKey);
    if (bytes > PUT_RECORDS_LIMITS.MAX_RECORD_BYTES) {
      throw new InputError(
        `Record ${index + 1} is ${bytes} bytes; Kinesis accepts at most ${PUT_RECORDS_LIMITS.MAX_RECORD_BYTES} per record`,
      );
    }
    return { entry: { Data: data, PartitionKey: record.partitionKey }, bytes };
  });
}

/**
 * Splits records into PutRecords batches of at most `maxRecords` entries and 5 MiB, in order.
 *
 * @throws InputError when a single record exceeds 1 MiB.
 */
export function planBatches(
  records: readonly InputRecord[],
  maxRecords: number = PUT_RECORDS_LIMITS.MAX_RECORDS,
): PutRecordsRequestEntry[][] {
  const limit = Math.max(1, Math.min(PUT_RECORDS_LIMITS.MAX_RECORDS, Math.floor(maxRecords)));
  const batches: PutRecordsRequestEntry[][] = [];
  let current: PutRecordsRequestEntry[] = [];
  let currentBytes = 0;
  for (const { entry, bytes } of encode(records)) {
    if (current.length === limit || currentBytes + bytes > PUT_RECORDS_LIMITS.MAX_REQUEST_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Puts records on a stream in order, in batches within the PutRecords limits, retrying the entries
 * Kinesis reports as failed (throttling, internal errors) with exponential backoff.
 *
 * @throws SendError when entries still fail after `maxAttempts`, or a request fails outright.
 */
export async function sendRecords(
  records: readonly InputRecord[],
  options: SendOptions,
): Promise<SendProgress> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? (() => performance.now());
  const maxAttempts = Math.max(1, options.maxAttempts ?? 8);
  const rate = options.rate !== undefined && options.rate > 0 ? options.rate : undefined;
  const target = options.stream.startsWith('arn:')
    ? { StreamARN: options.stream }
    : { StreamName: options.stream };
  // With a rate, small batches keep the flow smooth instead of bursting 500 records every few seconds.
  const batches = planBatches(
    records,
    rate === undefined ? PUT_RECORDS_LIMITS.MAX_RECORDS : Math.ceil(rate / 4),
  );
  const started = now();
  let sent = 0;
  let retried = 0;
  for (const batch of batches) {
    if (rate !== undefined) {
      const due = started + (sent / rate) * 1000;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
    }
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let response;
      try {
        response = await options.kinesis.send(new PutRecordsCommand({ ...target, Records: pending }));
      } catch (error) {
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        throw new SendError(
          `PutRecords to ${options.stream} failed: ${reason.split('\n')[0]}`,
          records.length - sent,
          {
            cause: error,
          },
        );
      }
      const results = response.Records ?? [];
      const failed = pending.filter(
        (_, i) => results[i]?.ErrorCode !== undefined || results[i] === undefined,
      );
      sent += pending.length - failed.length;
      if (failed.length > 0) {
        if (attempt >= maxAttempts) {
          const code = results.find((r) => r.ErrorCode !== undefined);
          throw new SendError(
            `${failed.length} records still failing after ${maxAttempts} attempts (${code?.ErrorCode ?? 'no result'}: ${code?.ErrorMessage ?? ''})`.trim(),
            records.length - sent,
          );
        }
        retried += failed.length;
        await sleep(Math.min(5_000, 100 * 2 ** (attempt - 1)));
      }
      pending = failed;
      options.onProgress?.({ sent, total: records.length, retried });
    }
  }
  return { sent, total: records.length, retried };
}
