/**
 * Record builders shared by tests: Kinesis raw records, clickstream events of the `page-activity` shape,
 * and KPL aggregated records.
 */
import { createHash } from 'node:crypto';
import type { RawRecord } from '../../functions/core/types';

/** A clickstream event exactly as `functions/pipelines/pageActivity.ts` expects it. */
export interface ClickEvent {
  eventId: string;
  userId: string;
  sessionId: string;
  page: string;
  action: 'view' | 'click' | 'add_to_cart' | 'purchase';
  country: string;
  device: 'mobile' | 'desktop' | 'tablet';
  durationMs: number;
  revenue: number;
  ts: string;
}

/** A deterministic UUID v4-shaped id from a number. */
export function uuidFor(n: number): string {
  const hex = n.toString(16).padStart(12, '0').slice(-12);
  return `00000000-0000-4000-8000-${hex}`;
}

/** A valid click event at `eventTime`; override any field. */
export function clickEvent(n: number, eventTime: number, overrides: Partial<ClickEvent> = {}): ClickEvent {
  const actions = ['view', 'click', 'add_to_cart', 'purchase'] as const;
  const countries = ['DE', 'FR', 'US', 'GB', 'JP'];
  const devices = ['mobile', 'desktop', 'tablet'] as const;
  return {
    eventId: uuidFor(n),
    userId: `user-${n % 97}`,
    sessionId: `session-${n % 31}`,
    page: `/page/${n % 5}`,
    action: actions[n % 4]!,
    country: countries[n % 5]!,
    device: devices[n % 3]!,
    durationMs: (n * 37) % 5000,
    revenue: n % 4 === 3 ? ((n * 13) % 100) + 0.5 : 0,
    ts: new Date(eventTime).toISOString(),
    ...overrides,
  };
}

/** Base64 of the UTF-8 JSON of `value`. */
export function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** Options of {@link rawRecord}. */
export interface RawRecordOptions {
  shardId?: string;
  sequenceNumber?: string | number;
  partitionKey?: string;
  approximateArrivalTimestamp?: number;
}

/** A Kinesis record carrying `value` as JSON (or `data` verbatim when given a string via {@link rawData}). */
export function rawRecord(value: unknown, options: RawRecordOptions = {}): RawRecord {
  return rawData(encodeJson(value), options);
}

/** A Kinesis record with a verbatim base64 payload. */
export function rawData(data: string, options: RawRecordOptions = {}): RawRecord {
  return {
    shardId: options.shardId ?? 'shardId-000000000000',
    sequenceNumber: String(options.sequenceNumber ?? 1),
    partitionKey: options.partitionKey ?? 'pk',
    data,
    approximateArrivalTimestamp: options.approximateArrivalTimestamp ?? Date.UTC(2030, 0, 1),
  };
}

/** A realistic 56-digit Kinesis sequence number for index `i` (monotonic in `i`). */
export function kinesisSequence(i: number): string {
  return `4959033827149025660855969253836157109592157598913658${String(i).padStart(4, '0')}`;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function field(num: number, wire: number, payload: Uint8Array | number): number[] {
  const tag = varint(num * 8 + wire);
  if (typeof payload === 'number') return [...tag, ...varint(payload)];
  return [...tag, ...varint(payload.length), ...payload];
}

/** Encodes user records as one KPL aggregated record (magic + protobuf + MD5), as base64. */
export function kplAggregate(
  records: readonly { partitionKey: string; data: Uint8Array | string }[],
): string {
  const keys = [...new Set(records.map((r) => r.partitionKey))];
  const body: number[] = [];
  for (const k of keys) body.push(...field(1, 2, Buffer.from(k, 'utf8')));
  for (const r of records) {
    const data = typeof r.data === 'string' ? Buffer.from(r.data, 'utf8') : r.data;
    const inner = Uint8Array.from([...field(1, 0, keys.indexOf(r.partitionKey)), ...field(3, 2, data)]);
    body.push(...field(3, 2, inner));
  }
  const bodyBytes = Buffer.from(body);
  const md5 = createHash('md5').update(bodyBytes).digest();
  return Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), bodyBytes, md5]).toString('base64');
}
