/**
 * Kinesis event codec: turns the `KinesisStreamEvent` Lambda delivers into the engine's `RawRecord`s.
 * The event is treated as hostile input: its shape is validated with zod/mini (z.number() rejects
 * Infinity and NaN) before anything reads it.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { compileSchemaFastPath, NOT_ACCEPTED } from '../core/engine/schemaFastPath';
import { InvalidShardIdError, SHARD_ID_RULE, shardIdProblem, shownShardId } from '../core/shardId';
import type { RawRecord } from '../core/types';

const kinesisRecordSchema = z.object({
  eventID: z.string().check(z.minLength(1)),
  kinesis: z.object({
    partitionKey: z.string(),
    sequenceNumber: z.string().check(z.regex(/^\d{1,80}$/)),
    data: z.string(),
    approximateArrivalTimestamp: z.number(),
  }),
});
type KinesisRecordShape = z.infer<typeof kinesisRecordSchema>;

/** The shape every event must have (exported for the tests that hold the fast path to it). */
export const kinesisEventSchema = z.object({ Records: z.array(kinesisRecordSchema) });

/**
 * The record schema compiled (`schemaFastPath.ts`): zod's parse of the whole event (its generic object and
 * array walk, per record and field) took 16.6 ms per 20,000 records of the bench workload, the compiled check
 * 4.8 ms, and was ~80 of a worker's ~620 ms in the operator bundle in an e2e profile. Any record the fast path
 * does not accept sends the whole event to zod, for zod's answer.
 */
const fastRecord = compileSchemaFastPath(kinesisRecordSchema);

/** The event's records as the schema returns them; throws zod's error when the event does not have its shape. */
function checkedRecords(event: unknown): readonly KinesisRecordShape[] {
  const list =
    fastRecord !== undefined && typeof event === 'object' && event !== null && !Array.isArray(event)
      ? (event as { Records?: unknown }).Records
      : undefined;
  if (Array.isArray(list)) {
    const out = new Array<KinesisRecordShape>(list.length);
    let i = 0;
    try {
      for (; i < list.length; i++) {
        const record = fastRecord!(list[i]);
        if (record === NOT_ACCEPTED) break;
        out[i] = record as KinesisRecordShape;
      }
    } catch {
      // A getter threw: zod answers below.
    }
    if (i === list.length) return out;
  }
  return z.parse(kinesisEventSchema, event).Records;
}

/**
 * The shard id of the `index`-th record: the part of `eventID` (`shardId-000000000000:4959…`) before the
 * colon, checked (`core/shardId.ts`) since it becomes part of state keys and object paths.
 */
function shardOf(eventId: string, index: number, previous: string | undefined): string {
  const colon = eventId.indexOf(':');
  // A batch is one shard's: the shard id checked for the record before is not checked again.
  if (previous !== undefined && colon === previous.length && eventId.startsWith(previous)) return previous;
  const shard = colon > 0 ? eventId.slice(0, colon) : eventId;
  const problem = shardIdProblem(shard);
  if (problem === undefined) return shard;
  throw new InvalidShardIdError(
    `Record ${index}'s eventID names the shard ${shownShardId(shard)}, which ${problem}: a shard id is ${SHARD_ID_RULE}; the batch cannot be fenced, check what invokes this function`,
  );
}

/**
 * Decodes a Kinesis event; `approximateArrivalTimestamp` (epoch seconds with fraction) becomes epoch ms.
 *
 * @example const records = decodeKinesisEvent(event); // RawRecord[] in delivery order
 * @throws ZodError when the event does not have the shape of a Kinesis event.
 * @throws InvalidShardIdError when a record's eventID names no shard id.
 */
export function decodeKinesisEvent(event: KinesisStreamEvent | unknown): RawRecord[] {
  const records = checkedRecords(event);
  const out = new Array<RawRecord>(records.length);
  let shardId: string | undefined;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    shardId = shardOf(record.eventID, i, shardId);
    out[i] = {
      shardId,
      sequenceNumber: record.kinesis.sequenceNumber,
      partitionKey: record.kinesis.partitionKey,
      data: record.kinesis.data,
      approximateArrivalTimestamp: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
    };
  }
  return out;
}
