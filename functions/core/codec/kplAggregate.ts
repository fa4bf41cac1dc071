import { createHash } from 'node:crypto';
import { REJECT_REASONS } from '../types';
import { PayloadFailure } from './payloadCodec';

/** First four bytes of a KPL aggregated record. */
export const KPL_MAGIC = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
const MD5_BYTES = 16;

/** One user record inside a KPL aggregated record. */
export interface KplSubRecord {
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly data: Uint8Array;
  /** Index inside the aggregate (Lambda's `subSequenceNumber`). */
  readonly subSequenceNumber: number;
}

/** True when `bytes` start with the KPL magic number. */
export function isKplAggregate(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0xf3 && bytes[1] === 0x89 && bytes[2] === 0x9a && bytes[3] === 0xc2
  );
}

/**
 * De-aggregates a KPL aggregated record: magic, protobuf `AggregatedRecord` body, MD5 of the body.
 * Returns a failure (INVALID_KPL_AGGREGATE) for a bad checksum, truncated or malformed protobuf, or an
 * out-of-range key index; never throws.
 *
 * The protobuf reader is hand-written: the message has three fields, and no small maintained library
 * does only KPL de-aggregation (the official `aws-kinesis-agg` pulls in protobufjs and a callback API).
 */
export function deaggregate(bytes: Uint8Array): KplSubRecord[] | PayloadFailure {
  if (!isKplAggregate(bytes) || bytes.length < KPL_MAGIC.length + MD5_BYTES) {
    return new PayloadFailure(REJECT_REASONS.INVALID_KPL_AGGREGATE, 'KPL aggregate is too short');
  }
  const body = bytes.subarray(KPL_MAGIC.length, bytes.length - MD5_BYTES);
  const digest = createHash('md5').update(body).digest();
  const trailer = bytes.subarray(bytes.length - MD5_BYTES);
  if (!digest.equals(trailer))
    return new PayloadFailure(REJECT_REASONS.INVALID_KPL_AGGREGATE, 'KPL aggregate MD5 mismatch');
  try {
    return parseAggregatedRecord(body);
  } catch (err) {
    return new PayloadFailure(
      REJECT_REASONS.INVALID_KPL_AGGREGATE,
      `KPL aggregate is malformed: ${(err as Error).message}`,
    );
  }
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Minimal protobuf reader over a byte range; throws on malformed input (caught by `deaggregate`). */
class Reader {
  public pos: number;
  public constructor(
    private readonly buf: Uint8Array,
    start = 0,
    public readonly end = buf.length,
  ) {
    this.pos = start;
  }

  public done(): boolean {
    return this.pos >= this.end;
  }

  public varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw new Error('varint too large');
        return result;
      }
      scale *= 128;
    }
    throw new Error('varint too long');
  }

  public bytes(): Uint8Array {
    const len = this.varint();
    if (len > this.end - this.pos) throw new Error('length-delimited field overruns its message');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  public skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LENGTH) this.bytes();
    else if (wireType === WIRE_FIXED64) this.advance(8);
    else if (wireType === WIRE_FIXED32) this.advance(4);
    else throw new Error(`unsupported wire type ${wireType}`);
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new Error('truncated fixed field');
    this.pos += n;
  }
}

function parseAggregatedRecord(body: Uint8Array): KplSubRecord[] {
  const partitionKeys: string[] = [];
  const hashKeys: string[] = [];
  const raw: { pk: number; ehk: number | undefined; data: Uint8Array }[] = [];
  const r = new Reader(body);
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === WIRE_LENGTH) partitionKeys.push(utf8.decode(r.bytes()));
    else if (field === 2 && wire === WIRE_LENGTH) hashKeys.push(utf8.decode(r.bytes()));
    else if (field === 3 && wire === WIRE_LENGTH) raw.push(parseRecord(r.bytes()));
    else r.skip(wire);
  }
  if (raw.length === 0) throw new Error('no records');
  return raw.map((rec, i) => {
    const partitionKey = partitionKeys[rec.pk];
    if (partitionKey === undefined) throw new Error(`partition key index ${rec.pk} out of range`);
    const base = { partitionKey, data: rec.data, subSequenceNumber: i };
    if (rec.ehk === undefined) return base;
    const explicitHashKey = hashKeys[rec.ehk];
    if (explicitHashKey === undefined) throw new Error(`explicit hash key index ${rec.ehk} out of range`);
    return { ...base, explicitHashKey };
  });
}

function parseRecord(bytes: Uint8Array): { pk: number; ehk: number | undefined; data: Uint8Array } {
  const r = new Reader(bytes);
  let pk: number | undefined;
  let ehk: number | undefined;
  let data: Uint8Array | undefined;
  while (!r.done()) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === WIRE_VARINT) pk = r.varint();
    else if (field === 2 && wire === WIRE_VARINT) ehk = r.varint();
    else if (field === 3 && wire === WIRE_LENGTH) data = r.bytes();
    else r.skip(wire);
  }
  if (pk === undefined) throw new Error('record without partition_key_index');
  if (data === undefined) throw new Error('record without data');
  return { pk, ehk, data };
}
