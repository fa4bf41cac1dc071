import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/** Deterministic PRNG (mulberry32): the same seed gives the same stream on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples indexes 0..n-1 with Zipf(s) skew: index 0 is the hottest key. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 1; i <= n; i++) {
    total += 1 / Math.pow(i, s);
    cumulative.push(total);
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] ?? total) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * A deterministic RFC 9562 version-4 UUID from the PRNG: the page-activity schema requires `eventId` to be
 * a UUID, so a plain counter would make every record a SCHEMA_VIOLATION.
 */
export function deterministicUuid(random: () => number): string {
  const hex = (digits: number): string =>
    Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');
  const variant = (8 + Math.floor(random() * 4)).toString(16);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
}

export interface WorkloadOptions {
  readonly batches: number;
  readonly batchSize: number;
  readonly keys: number;
  readonly shards: number;
  readonly seed: number;
  /** Event-time span of one batch; 1,000 records over 20 s touch one or two one-minute windows. */
  readonly batchSpanMs: number;
  readonly startTime: number;
  readonly streamArn: string;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  batches: 20,
  batchSize: 1000,
  keys: 50,
  shards: 1,
  seed: 42,
  batchSpanMs: 20_000,
  startTime: Date.UTC(2026, 10, 24, 8, 0, 0),
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/clickstream',
};

const ACTIONS = ['view', 'view', 'view', 'click', 'click', 'add_to_cart', 'purchase'] as const;
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'IN', 'BR', 'JP'] as const;
const DEVICES = ['mobile', 'desktop', 'tablet'] as const;

/**
 * Kinesis batches of clickstream events for the `page-activity` pipeline: keys (pages) Zipf-skewed, sequence
 * numbers increasing per shard, each batch from one shard as Lambda delivers them.
 */
export function clickstreamBatches(options: WorkloadOptions = DEFAULT_WORKLOAD): KinesisStreamEvent[] {
  const random = prng(options.seed);
  const page = zipfSampler(options.keys, 1.1, random);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const sequence = new Array<bigint>(options.shards).fill(
    49_000_000_000_000_000_000_000_000_000_000_000_000n,
  );
  const ids = prng(options.seed ^ 0x5eed);
  const events: KinesisStreamEvent[] = [];
  for (let b = 0; b < options.batches; b++) {
    const shard = b % options.shards;
    const shardId = `shardId-${String(shard).padStart(12, '0')}`;
    const batchStart = options.startTime + Math.floor(b / options.shards) * options.batchSpanMs;
    const records: KinesisStreamRecord[] = [];
    for (let i = 0; i < options.batchSize; i++) {
      const action = pick(ACTIONS);
      const eventTime = batchStart + Math.floor((i / options.batchSize) * options.batchSpanMs);
      const value = {
        eventId: deterministicUuid(ids),
        userId: `u-${Math.floor(random() * 5000)}`,
        sessionId: `s-${Math.floor(random() * 20000)}`,
        page: `/page/${page()}`,
        action,
        country: pick(COUNTRIES),
        device: pick(DEVICES),
        durationMs: Math.floor(random() * 30_000),
        revenue: action === 'purchase' ? Math.round(random() * 20000) / 100 : 0,
        ts: new Date(eventTime).toISOString(),
      };
      sequence[shard] = (sequence[shard] ?? 0n) + 1n;
      const sequenceNumber = String(sequence[shard]);
      records.push({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: value.page,
          sequenceNumber,
          data: Buffer.from(JSON.stringify(value)).toString('base64'),
          approximateArrivalTimestamp: eventTime / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/shardflow-bench',
        awsRegion: 'us-east-1',
        eventSourceARN: options.streamArn,
      });
    }
    events.push({ Records: records });
  }
  return events;
}
