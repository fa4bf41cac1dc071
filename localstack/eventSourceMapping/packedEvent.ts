/**
 * How a Kinesis event crosses from the mapping runtime to the worker that hosts the function: packed.
 *
 * Structured clone copies every string of every record: a 2,000-record Lambda event is ~12 strings a record,
 * seven of them the same for the whole batch (event source, version, name, region, stream and role ARNs),
 * and costs ~4.5 µs a record to write and read back (v8 serialize + deserialize, measured 2026-12-07),
 * about a twentieth of the local stack's CPU per record. Packed, the batch is its partition keys, one buffer
 * holding each record's sequence number and data (ASCII) back to back, their lengths and arrival times as
 * typed arrays, and the shared values once: ~1.4 µs a record both ways. The worker rebuilds the same event
 * (same values, same key order) before the handler sees it ({@link UNPACK_EVENT_SOURCE}); every string it
 * builds is its own copy, as after structured clone (slices of one batch-wide string would keep the whole
 * batch alive for as long as a handler keeps any of them).
 *
 * An event that is not exactly the shape Lambda sends for Kinesis (a table stream's, a scheduled one, a
 * test's own) is not packed: {@link packKinesisEvent} answers `undefined` and it goes by structured clone.
 * One difference remains: a record object that appears twice in one event arrives as two equal objects.
 */
import { isProxy } from 'node:util/types';

/** The seven values every record of a Kinesis event shares, beside its shard id. */
interface SharedValues {
  readonly kinesisSchemaVersion: string;
  readonly eventSource: string;
  readonly eventVersion: string;
  readonly eventName: string;
  readonly invokeIdentityArn: string;
  readonly awsRegion: string;
  readonly eventSourceARN: string;
}

/** A Kinesis event as it crosses to the worker. */
export interface PackedKinesisEvent {
  readonly shardId: string;
  readonly shared: SharedValues;
  readonly partitionKeys: readonly string[];
  /** Each record's sequence number and data (base64), back to back, as ASCII bytes. */
  readonly ascii: Uint8Array;
  /** Two lengths a record, in that order, of its parts of {@link ascii}. */
  readonly lengths: Uint32Array;
  /** Each record's `approximateArrivalTimestamp` (epoch seconds, fractional). */
  readonly arrivals: Float64Array;
}

/** A record's keys, in the order Lambda sends them (and the worker rebuilds them). */
const RECORD_KEYS = [
  'kinesis',
  'eventSource',
  'eventVersion',
  'eventID',
  'eventName',
  'invokeIdentityArn',
  'awsRegion',
  'eventSourceARN',
] as const;
const KINESIS_KEYS = [
  'kinesisSchemaVersion',
  'partitionKey',
  'sequenceNumber',
  'data',
  'approximateArrivalTimestamp',
] as const;

/** True when `value` is a plain object whose own enumerable keys are exactly `keys`, in that order. */
function hasExactly(value: unknown, keys: readonly string[]): value is Record<string, unknown> {
  if (
    typeof value !== 'object' ||
    value === null ||
    isProxy(value) ||
    Object.getPrototypeOf(value) !== Object.prototype
  )
    return false;
  let i = 0;
  for (const key in value) {
    if (keys[i] !== key) return false;
    i += 1;
  }
  return i === keys.length;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * `event` packed for the worker, or `undefined` when it is not a Kinesis event of exactly Lambda's shape
 * (every record with Lambda's keys in Lambda's order, string values, a numeric arrival time, one shard and
 * the same shared values), which is then sent as it is.
 */
export function packKinesisEvent(event: unknown): PackedKinesisEvent | undefined {
  if (!hasExactly(event, ['Records'])) return undefined;
  const records = event['Records'];
  // A plain array: no holes and no property beside its elements (structured clone would carry one).
  if (
    !Array.isArray(records) ||
    records.length === 0 ||
    isProxy(records) ||
    Object.getPrototypeOf(records) !== Array.prototype ||
    Object.keys(records).length !== records.length
  )
    return undefined;
  const first: unknown = records[0];
  if (!hasExactly(first, RECORD_KEYS) || !hasExactly(first['kinesis'], KINESIS_KEYS)) return undefined;
  const firstKinesis = first['kinesis'];
  const { eventSource, eventVersion, eventName, invokeIdentityArn, awsRegion, eventSourceARN } = first;
  const { kinesisSchemaVersion } = firstKinesis;
  const firstId = first['eventID'];
  const firstSequence = firstKinesis['sequenceNumber'];
  if (
    !isString(kinesisSchemaVersion) ||
    !isString(eventSource) ||
    !isString(eventVersion) ||
    !isString(eventName) ||
    !isString(invokeIdentityArn) ||
    !isString(awsRegion) ||
    !isString(eventSourceARN) ||
    !isString(firstId) ||
    !isString(firstSequence) ||
    !firstId.endsWith(`:${firstSequence}`)
  )
    return undefined;
  const shardId = firstId.slice(0, firstId.length - firstSequence.length - 1);
  const lengths = new Uint32Array(records.length * 2);
  const arrivals = new Float64Array(records.length);
  const partitionKeys = new Array<string>(records.length);
  const parts: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const record: unknown = records[i];
    if (!hasExactly(record, RECORD_KEYS)) return undefined;
    const kinesis = record['kinesis'];
    if (!hasExactly(kinesis, KINESIS_KEYS)) return undefined;
    const { partitionKey, sequenceNumber, data, approximateArrivalTimestamp } = kinesis;
    if (
      !isString(partitionKey) ||
      !isString(sequenceNumber) ||
      !isString(data) ||
      typeof approximateArrivalTimestamp !== 'number' ||
      kinesis['kinesisSchemaVersion'] !== kinesisSchemaVersion ||
      record['eventSource'] !== eventSource ||
      record['eventVersion'] !== eventVersion ||
      record['eventID'] !== `${shardId}:${sequenceNumber}` ||
      record['eventName'] !== eventName ||
      record['invokeIdentityArn'] !== invokeIdentityArn ||
      record['awsRegion'] !== awsRegion ||
      record['eventSourceARN'] !== eventSourceARN
    )
      return undefined;
    partitionKeys[i] = partitionKey;
    parts.push(sequenceNumber, data);
    lengths[i * 2] = sequenceNumber.length;
    lengths[i * 2 + 1] = data.length;
    arrivals[i] = approximateArrivalTimestamp;
  }
  const text = parts.join('');
  // ASCII (as base64 and sequence numbers are): one byte a character, read back by the worker as Latin-1.
  if (Buffer.byteLength(text, 'utf8') !== text.length) return undefined;
  return {
    shardId,
    shared: {
      kinesisSchemaVersion,
      eventSource,
      eventVersion,
      eventName,
      invokeIdentityArn,
      awsRegion,
      eventSourceARN,
    },
    partitionKeys,
    ascii: Buffer.from(text, 'latin1'),
    lengths,
    arrivals,
  };
}

/**
 * JavaScript source of `unpackKinesisEvent(packed)`, the inverse of {@link packKinesisEvent}, for the worker
 * (whose source is a string, `workerSource.ts`): the event with the same values and key order.
 */
export const UNPACK_EVENT_SOURCE = String.raw`
function unpackKinesisEvent(packed) {
  const { shardId, shared, partitionKeys, ascii, lengths, arrivals } = packed;
  // Structured clone delivers the Buffer as a Uint8Array; toString copies each part into its own string.
  const bytes = Buffer.from(ascii.buffer, ascii.byteOffset, ascii.byteLength);
  const n = arrivals.length;
  const records = new Array(n);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const sequenceNumber = bytes.toString('latin1', offset, (offset += lengths[i * 2]));
    const data = bytes.toString('latin1', offset, (offset += lengths[i * 2 + 1]));
    records[i] = {
      kinesis: {
        kinesisSchemaVersion: shared.kinesisSchemaVersion,
        partitionKey: partitionKeys[i],
        sequenceNumber,
        data,
        approximateArrivalTimestamp: arrivals[i],
      },
      eventSource: shared.eventSource,
      eventVersion: shared.eventVersion,
      eventID: shardId + ':' + sequenceNumber,
      eventName: shared.eventName,
      invokeIdentityArn: shared.invokeIdentityArn,
      awsRegion: shared.awsRegion,
      eventSourceARN: shared.eventSourceARN,
    };
  }
  return { Records: records };
}
`;
