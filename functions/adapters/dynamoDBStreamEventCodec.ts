/**
 * DynamoDB-stream event codec: turns the event Lambda delivers for a table's stream into the engine's
 * `RawRecord`s, each carrying one `TableChange` (images unmarshalled to plain JSON) as its payload. Every
 * record is hostile input: one that cannot be a change of the pipeline's view (a missing image, sequence
 * number or time, an unreadable attribute value, an oversize record) becomes a `RawRecord` with a
 * `rejection`, so it goes to `rejected/` with its reason and the shard moves on.
 *
 * The records do not name their shard. The event does when the mapping has a tumbling window (`shardId`,
 * `tumblingWindowEvent.ts`): a batch is of that one shard. Without it, the shard is the one whose range
 * holds the batch's first sequence number, and the batch fails when several do (`tableStreamShards.ts`).
 */
import { unmarshall, type NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { MIN_EVENT_TIME } from '../core/engine/definition';
import { ShardflowError } from '../core/errors';
import { isValidSequence } from '../core/sequence';
import {
  CHANGE_EVENT_NAMES,
  isExpiry,
  missingImage,
  numberProblem,
  oversizeChangeJson,
  oversizeStreamRecord,
  RESERVED_ATTRIBUTE_NAMES,
  reservedAttributePath,
  type ChangeEventName,
  type StreamViewType,
  type TableChange,
} from '../core/tableChange';
import { REJECT_REASONS, type RawRecord, type RejectReason } from '../core/types';
import type { TableShardResolver } from './tableStreamShards';
import { eventShardId, eventSourceArn } from './tumblingWindowEvent';

/** Longest stream ARN DynamoDB Streams takes. */
const MAX_STREAM_ARN_CHARS = 1024;
/** Longest partition key (the change's keys as JSON) a rejection names. */
const MAX_PARTITION_KEY_CHARS = 256;
/** A change time further than this after the edge's clock is not a time the stream wrote. */
const MAX_TIME_AHEAD_MS = 86_400_000;

/** The event is not a DynamoDB-stream event at all, or none of its records can be placed in a shard. */
export class InvalidStreamEventError extends ShardflowError {
  public constructor(message: string) {
    super(message);
    this.name = 'InvalidStreamEventError';
  }
}

/** A record that cannot be a change of the view (never leaves this module: it becomes a rejection). */
class UnreadableChange extends ShardflowError {
  public constructor(
    public readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
    this.name = 'UnreadableChangeError';
  }
}

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A record before it is placed in its shard. */
interface Decoded {
  readonly sequenceNumber: string | undefined;
  readonly arrival: number | undefined;
  readonly partitionKey: string;
  readonly data: string;
  readonly rejection?: { readonly reason: RejectReason; readonly detail: string };
}

/**
 * Decodes a DynamoDB-stream event of a `view` stream into `RawRecord`s of one shard, in delivery order: the
 * shard the event names (`shardId`), else the one `resolver` finds for the first sequence number.
 *
 * @example const records = await decodeDynamoDBStreamEvent(event, 'NEW_AND_OLD_IMAGES', resolver);
 * @throws InvalidStreamEventError when the event has no `Records` array, or records but none with a valid
 *   sequence number (and, when it names no shard, stream ARN): nothing to fence them by.
 * @throws InvalidWindowEventError when the event's `shardId` is not a shard id.
 * @throws AmbiguousShardError when the event names no shard and several shards hold its first record.
 */
export async function decodeDynamoDBStreamEvent(
  event: unknown,
  view: StreamViewType,
  resolver: Pick<TableShardResolver, 'shardOf' | 'named'>,
  now: () => number = Date.now,
): Promise<RawRecord[]> {
  const records = isObject(event) ? event['Records'] : undefined;
  if (!Array.isArray(records))
    throw new InvalidStreamEventError('A DynamoDB-stream event has a Records array; this event has none');
  const named = eventShardId(event);
  if (records.length === 0) return [];
  const decoded = records.map((record) => decodeRecord(record, view, now()));
  const arnOf = (i: number): string | undefined => {
    const arn = (records[i] as Obj | null)?.['eventSourceARN'];
    return typeof arn === 'string' ? arn : undefined;
  };
  if (named !== undefined) {
    if (!decoded.some((d) => d.sequenceNumber !== undefined))
      throw new InvalidStreamEventError(
        `None of the event's ${records.length} records has a valid dynamodb.SequenceNumber: it cannot be fenced, check the event source`,
      );
    // Lambda sends a window's batch from the one shard it names; the stream serves only its lineage.
    const arn = eventSourceArn(event) ?? arnOf(decoded.findIndex((d) => d.sequenceNumber !== undefined));
    if (arn !== undefined && arn.length <= MAX_STREAM_ARN_CHARS) resolver.named(arn, named);
    return place(decoded, named);
  }
  const anchor = records.findIndex(
    (_, i) => decoded[i]!.sequenceNumber !== undefined && arnOf(i) !== undefined,
  );
  if (anchor < 0)
    throw new InvalidStreamEventError(
      `None of the event's ${records.length} records has a valid dynamodb.SequenceNumber and eventSourceARN: it cannot be fenced, check the event source`,
    );
  const shard = await resolver.shardOf(
    arnOf(anchor)!,
    decoded[anchor]!.sequenceNumber!,
    decoded[anchor]!.arrival,
  );
  return place(decoded, shard.id);
}

/**
 * The records in their shard. One without a valid sequence number is fenced with its neighbour (the
 * previous record with one, else the next), as a sub-record of it, so it is rejected exactly once with it;
 * one without a valid time is filed at its neighbour's arrival time.
 */
function place(decoded: readonly Decoded[], shardId: string): RawRecord[] {
  const out: RawRecord[] = [];
  for (let i = 0; i < decoded.length; i++) {
    const d = decoded[i]!;
    let sequenceNumber = d.sequenceNumber;
    let subSequenceNumber: number | undefined;
    if (sequenceNumber === undefined) {
      const owner = neighbour(decoded, i, (n) => n.sequenceNumber !== undefined)!;
      sequenceNumber = decoded[owner]!.sequenceNumber!;
      subSequenceNumber = Math.abs(i - owner);
    }
    const arrival = d.arrival ?? decoded[neighbour(decoded, i, (n) => n.arrival !== undefined) ?? i]!.arrival;
    out.push({
      shardId,
      sequenceNumber,
      ...(subSequenceNumber !== undefined ? { subSequenceNumber } : {}),
      partitionKey: d.partitionKey,
      data: d.data,
      approximateArrivalTimestamp: arrival ?? 0,
      ...(d.rejection !== undefined ? { rejection: d.rejection } : {}),
    });
  }
  return out;
}

/** Index of the nearest record before `i` that satisfies `has`, else the nearest after it. */
function neighbour(decoded: readonly Decoded[], i: number, has: (d: Decoded) => boolean): number | undefined {
  for (let j = i - 1; j >= 0; j--) if (has(decoded[j]!)) return j;
  for (let j = i + 1; j < decoded.length; j++) if (has(decoded[j]!)) return j;
  return undefined;
}

function decodeRecord(record: unknown, view: StreamViewType, now: number): Decoded {
  const stream = isObject(record) && isObject(record['dynamodb']) ? record['dynamodb'] : {};
  const seq = stream['SequenceNumber'];
  const sequenceNumber = isValidSequence(seq) ? seq : undefined;
  const rawTime = stream['ApproximateCreationDateTime'];
  const arrival = typeof rawTime === 'number' && Number.isFinite(rawTime) ? Math.round(rawTime * 1000) : NaN;
  const timeOk = arrival >= MIN_EVENT_TIME && arrival <= now + MAX_TIME_AHEAD_MS;
  const base = { sequenceNumber, arrival: timeOk ? arrival : undefined };
  try {
    if (!isObject(record) || !isObject(record['dynamodb']))
      throw new UnreadableChange(REJECT_REASONS.INVALID_CHANGE_RECORD, 'record has no dynamodb object');
    if (sequenceNumber === undefined)
      throw new UnreadableChange(
        REJECT_REASONS.INVALID_CHANGE_RECORD,
        `dynamodb.SequenceNumber ${describe(seq)} is not a decimal sequence number`,
      );
    if (!timeOk)
      throw new UnreadableChange(
        REJECT_REASONS.INVALID_CHANGE_RECORD,
        `dynamodb.ApproximateCreationDateTime ${describe(rawTime)} is not epoch seconds between 2000-01-01 and a day from now`,
      );
    const size = stream['SizeBytes'];
    if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 0))
      throw new UnreadableChange(
        REJECT_REASONS.INVALID_CHANGE_RECORD,
        `dynamodb.SizeBytes ${describe(size)} is not a byte count`,
      );
    const sizeBytes = typeof size === 'number' ? size : undefined;
    const early = sizeBytes === undefined ? undefined : oversizeStreamRecord(sizeBytes);
    if (early !== undefined) throw new UnreadableChange(REJECT_REASONS.OVERSIZE_RECORD, early);
    const change = readChange(record, stream, view, arrival);
    const bytes = Buffer.from(JSON.stringify(change), 'utf8');
    const oversize = oversizeChangeJson(bytes.length, sizeBytes);
    if (oversize !== undefined) throw new UnreadableChange(REJECT_REASONS.OVERSIZE_RECORD, oversize);
    return {
      ...base,
      partitionKey: clip(JSON.stringify(change.keys)),
      data: bytes.toString('base64'),
    };
  } catch (err) {
    if (!(err instanceof UnreadableChange)) throw err;
    const raw = safeJson(record);
    return {
      ...base,
      partitionKey: clip(safeJson(stream['Keys'])),
      data: Buffer.from(raw, 'utf8').toString('base64'),
      rejection: { reason: err.reason, detail: err.message },
    };
  }
}

function readChange(record: Obj, stream: Obj, view: StreamViewType, eventTime: number): TableChange {
  const eventName = record['eventName'];
  if (!(CHANGE_EVENT_NAMES as readonly unknown[]).includes(eventName))
    throw new UnreadableChange(
      REJECT_REASONS.INVALID_CHANGE_RECORD,
      `eventName ${describe(eventName)} is not INSERT, MODIFY or REMOVE`,
    );
  const name = eventName as ChangeEventName;
  const keys = image(stream, 'Keys');
  if (keys === undefined)
    throw new UnreadableChange(REJECT_REASONS.INVALID_CHANGE_RECORD, 'dynamodb.Keys is missing');
  const newImage = image(stream, 'NewImage');
  const oldImage = image(stream, 'OldImage');
  const missing = missingImage(name, view, newImage !== undefined, oldImage !== undefined);
  if (missing !== undefined) throw new UnreadableChange(REJECT_REASONS.INVALID_CHANGE_RECORD, missing);
  return {
    eventName: name,
    keys,
    ...(newImage !== undefined ? { newImage } : {}),
    ...(oldImage !== undefined ? { oldImage } : {}),
    eventTime,
    ...(isExpiry(name, record['userIdentity']) ? { expired: true as const } : {}),
  };
}

/** `stream[field]` unmarshalled to plain JSON (sets as arrays), undefined when absent. */
function image(stream: Obj, field: string): Record<string, unknown> | undefined {
  const value = stream[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value))
    throw new UnreadableChange(REJECT_REASONS.INVALID_CHANGE_RECORD, `dynamodb.${field} is not a map`);
  try {
    // Before unmarshall, which assigns names with `acc[name] =`: a "__proto__" would be dropped, or set the
    // prototype of the image.
    const reserved = reservedAttributePath(value);
    if (reserved !== undefined)
      throw new UnreadableChange(
        REJECT_REASONS.INVALID_CHANGE_RECORD,
        `dynamodb.${field} has an attribute ${JSON.stringify(reserved.slice(0, 128))}: a table change does not carry attributes named ${RESERVED_ATTRIBUTE_NAMES.join(' or ')}`,
      );
    return plain(unmarshall(value as never, { wrapNumbers: number }), `dynamodb.${field}`) as Obj;
  } catch (err) {
    if (err instanceof UnreadableChange) throw err;
    throw new UnreadableChange(
      REJECT_REASONS.INVALID_CHANGE_RECORD,
      `dynamodb.${field} is not DynamoDB JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** A DynamoDB number as a JSON number of the same value (`numberProblem`), else a rejection saying why. */
function number(text: string): number {
  const n = Number(text);
  const problem = numberProblem(text, n);
  if (problem !== undefined)
    throw new UnreadableChange(
      REJECT_REASONS.INVALID_CHANGE_RECORD,
      `number ${JSON.stringify(text.slice(0, 64))} has no exact JSON number: ${problem}`,
    );
  return n;
}

function plain(value: NativeAttributeValue, path: string): unknown {
  if (value instanceof Set) return [...value].map((v: NativeAttributeValue) => plain(v, path));
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v: NativeAttributeValue) => plain(v, path));
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new UnreadableChange(
      REJECT_REASONS.INVALID_CHANGE_RECORD,
      `${path} holds a number that is not finite`,
    );
  if (isObject(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v as NativeAttributeValue, path);
    return out;
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = safeJson(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function clip(text: string): string {
  return text.length > MAX_PARTITION_KEY_CHARS ? text.slice(0, MAX_PARTITION_KEY_CHARS) : text;
}
