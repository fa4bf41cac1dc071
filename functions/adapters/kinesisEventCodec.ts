/**
 * Kinesis event codec: turns the `KinesisStreamEvent` Lambda delivers into the engine's `RawRecord`s.
 * The event is treated as hostile input: its shape is validated with zod/mini (z.number() rejects
 * Infinity and NaN) before anything reads it.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { InvalidShardIdError, SHARD_ID_RULE, shardIdProblem, shownShardId } from '../core/shardId';
import type { RawRecord } from '../core/types';

const kinesisEventSchema = z.object({
  Records: z.array(
    z.object({
      eventID: z.string().check(z.minLength(1)),
      kinesis: z.object({
        partitionKey: z.string(),
        sequenceNumber: z.string().check(z.regex(/^\d{1,80}$/)),
        data: z.string(),
        approximateArrivalTimestamp: z.number(),
      }),
    }),
  ),
});

/**
 * The shard id of the `index`-th record: the part of `eventID` (`shardId-000000000000:4959…`) before the
 * colon, checked (`core/shardId.ts`) since it becomes part of state keys and object paths.
 */
function shardOf(eventId: string, index: number): string {
  const colon = eventId.indexOf(':');
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
  return z.parse(kinesisEventSchema, event).Records.map((record, i) => ({
    shardId: shardOf(record.eventID, i),
    sequenceNumber: record.kinesis.sequenceNumber,
    partitionKey: record.kinesis.partitionKey,
    data: record.kinesis.data,
    approximateArrivalTimestamp: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
  }));
}
