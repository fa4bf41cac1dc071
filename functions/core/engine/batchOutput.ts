/**
 * The scratch and the outputs of one `prepare` call (rejected, late and cleaned records, routed elements, the
 * per-shard summary), shared by the engine's stages.
 */
import { MAX_REJECTED_DATA_CHARS } from '../codec/payloadCodec';
import * as sequences from '../sequence';
import type { EpochMillis, LateRecord, Rejection } from '../types';
import type { PublishEntry } from './streamTap';
import type { CleanedRecord, PrepareOptions, RoutedElement } from './types';

const { sequenceGreater } = sequences;

/** Per-record scratch reused across records (no per-record allocation for bookkeeping). */
export interface RecordContext {
  shardId: string;
  sequenceNumber: string;
  sequence: string;
  subSequenceNumber: number | undefined;
  partitionKey: string;
  data: string;
  eventTime: EpochMillis;
  dedupeId: string | undefined;
  ordinal: number;
  failed: boolean;
}

/** Mutable outputs of one `prepare` call. */
export interface BatchOutput {
  readonly rejected: Rejection[];
  readonly late: LateRecord[];
  readonly cleaned: CleanedRecord[];
  readonly elements: RoutedElement[];
  /** What `.toStream()` publishes once the batch commits, in record order. */
  readonly published: PublishEntry[];
  readonly shards: Map<string, { maxEventTime: EpochMillis | null; lastSequence: string; records: number }>;
  readonly closedWatermark: EpochMillis;
  /** Per operator of the chain, values in (`[2i]`) and values passed on (`[2i + 1]`). */
  readonly operators: number[];
  /** One-entry cache of the last shard's summary (batches come in shard runs). */
  lastShardId: string | undefined;
  lastShard: { maxEventTime: EpochMillis | null; lastSequence: string; records: number } | undefined;
}

export function newContext(): RecordContext {
  return {
    shardId: '',
    sequenceNumber: '',
    sequence: '',
    subSequenceNumber: undefined,
    partitionKey: '',
    data: '',
    eventTime: 0,
    dedupeId: undefined,
    ordinal: 0,
    failed: false,
  };
}

export function newOutput(options: PrepareOptions, operators: number): BatchOutput {
  return {
    operators: new Array<number>(2 * operators).fill(0),
    rejected: [],
    late: [],
    cleaned: [],
    elements: [],
    published: [],
    shards: new Map(),
    closedWatermark: options.closedWatermark,
    lastShardId: undefined,
    lastShard: undefined,
  };
}

/** Counts a record of `shardId` at `sequence` in the batch's summary of that shard. */
export function noteShard(out: BatchOutput, shardId: string, sequence: string): void {
  let s = out.lastShardId === shardId ? out.lastShard : out.shards.get(shardId);
  if (s === undefined) {
    s = { maxEventTime: null, lastSequence: sequence, records: 1 };
    out.shards.set(shardId, s);
  } else {
    if (sequenceGreater(sequence, s.lastSequence)) s.lastSequence = sequence;
    s.records++;
  }
  out.lastShardId = shardId;
  out.lastShard = s;
}

/** A user function's error as a rejection detail (at most 500 characters). */
export function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return msg.length > 500 ? `${msg.slice(0, 500)}…` : msg;
}

/** A rejected value as the `data` of its rejection: its JSON, base64, cut to the rejection limit. */
export function encodeForRejection(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? '';
  } catch {
    text = '';
  }
  const b64 = Buffer.from(text, 'utf8').toString('base64');
  return b64.length > MAX_REJECTED_DATA_CHARS ? b64.slice(0, MAX_REJECTED_DATA_CHARS) : b64;
}
