/**
 * The shards of a table's DynamoDB stream, as `DescribeStream` describes them: which shards a shard was
 * split from, and, for a batch that does not name its shard, which shard it is in. Lambda's DynamoDB-stream
 * records do not name their shard, but the exactly-once fence is per shard; with a tumbling window on the
 * mapping the event does (`shardId`, read by `tumblingWindowEvent.ts`), else the one shard whose sequence
 * number range holds the batch's first record is its shard, and a batch that several ranges hold fails.
 */
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { ShardflowError } from '../core/errors';
import { padSequence } from '../core/sequence';
import type { StreamShard } from './streamShards';

/** One shard of a table's stream with its sequence number range (`ending` absent while it is open). */
export interface TableStreamShard extends StreamShard {
  readonly starting: string;
  readonly ending?: string;
}

/** No shard of the stream holds a record's sequence number, even after describing it again. */
export class ShardNotFoundError extends ShardflowError {
  public constructor(message: string) {
    super(message);
    this.name = 'ShardNotFoundError';
  }
}

/**
 * Several shards of the stream hold a record's sequence number (overlapping ranges: a table of several
 * partitions has several shards open at once), so the shard of a batch that does not name it is unknown.
 */
export class AmbiguousShardError extends ShardflowError {
  public constructor(message: string) {
    super(message);
    this.name = 'AmbiguousShardError';
  }
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, like the clients of `aws.ts`:
   every operator bundle holds this module, only pipelines reading a table describe a stream. */
const describeStreamCommand = () =>
  (require('@aws-sdk/client-dynamodb-streams') as typeof import('@aws-sdk/client-dynamodb-streams'))
    .DescribeStreamCommand;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Every shard of the stream `streamArn`, all pages (`ExclusiveStartShardId`). */
export async function describeTableStreamShards(
  client: DynamoDBStreamsClient,
  streamArn: string,
): Promise<TableStreamShard[]> {
  const DescribeStreamCommand = describeStreamCommand();
  const shards: TableStreamShard[] = [];
  let start: string | undefined;
  do {
    const page = await client.send(
      new DescribeStreamCommand({
        StreamArn: streamArn,
        ...(start !== undefined ? { ExclusiveStartShardId: start } : {}),
      }),
    );
    for (const shard of page.StreamDescription?.Shards ?? []) {
      const starting = shard.SequenceNumberRange?.StartingSequenceNumber;
      if (shard.ShardId === undefined || starting === undefined) continue;
      const ending = shard.SequenceNumberRange?.EndingSequenceNumber;
      shards.push({
        id: shard.ShardId,
        parents: shard.ParentShardId === undefined ? [] : [shard.ParentShardId],
        open: ending === undefined,
        starting,
        ...(ending !== undefined ? { ending } : {}),
      });
    }
    start = page.StreamDescription?.LastEvaluatedShardId;
  } while (start !== undefined);
  return shards;
}

/** Every shard whose range holds `sequenceNumber` (a decimal string), in description order. */
export function shardsHolding(
  shards: readonly TableStreamShard[],
  sequenceNumber: string,
): TableStreamShard[] {
  const sequence = padSequence(sequenceNumber);
  return shards.filter(
    (s) =>
      padSequence(s.starting) <= sequence && (s.ending === undefined || sequence <= padSequence(s.ending)),
  );
}

/**
 * How long before a description a change must have been written for an open shard of that description to
 * be its shard: change times have whole seconds, and the stream's clock is not this function's.
 */
const DESCRIPTION_SKEW_MS = 2_000;

/** Shards named by events (`named`) an instance remembers: far more than one function reads. */
const MAX_NAMED_SHARDS = 10_000;

/**
 * Which shard a batch is in, and which shards a shard was split from, from a description cached per stream.
 *
 * With a tumbling window on the mapping, Lambda names the batch's shard (`event.shardId`): the codec tells
 * it with `named`, and the description serves only the lineage (`parentsOf`), described again only for a
 * shard it does not list yet: `DescribeStream` may be called at most 10 times per second (DynamoDB Streams
 * API reference, DescribeStream), far fewer than a live stream's batches.
 *
 * Without it, the shard is found by the batch's first sequence number (`shardOf`). A stream's sequence
 * numbers grow with time across all its shards, and a table of several partitions has several shards open
 * at once, each with range [start, ∞): when more than one described shard holds the number, no description
 * can tell which one the batch is in, and `shardOf` fails instead of guessing (two shards on one fence would
 * skip the records of one as already committed).
 */
export class TableShardResolver {
  readonly #describe: (streamArn: string) => Promise<readonly TableStreamShard[]>;
  readonly #now: () => number;
  readonly #cached = new Map<string, { shards: readonly TableStreamShard[]; at: number }>();
  /** The stream each shard named by an event came from (`named`). */
  readonly #streamOf = new Map<string, string>();

  public constructor(
    describe: (streamArn: string) => Promise<readonly TableStreamShard[]>,
    now: () => number = Date.now,
  ) {
    this.#describe = describe;
    this.#now = now;
  }

  /**
   * The shard of `streamArn` holding `sequenceNumber`, a change written at `writtenAt` (epoch ms; undefined
   * when unknown). The cached description answers when exactly one of its shards holds the number and that
   * shard is closed (its range is final) or was open when described after the change was written; else the
   * stream is described again.
   * @throws AmbiguousShardError when several shards hold the number (set a tumbling window on the mapping).
   * @throws ShardNotFoundError when the stream, described afresh, has no such shard.
   */
  public async shardOf(
    streamArn: string,
    sequenceNumber: string,
    writtenAt?: number,
  ): Promise<TableStreamShard> {
    const cached = this.#cached.get(streamArn);
    const hits = cached === undefined ? [] : shardsHolding(cached.shards, sequenceNumber);
    if (hits.length > 1 && hits.every((s) => !s.open)) throw ambiguous(streamArn, sequenceNumber, hits);
    const hit = hits.length === 1 ? hits[0]! : undefined;
    if (
      hit !== undefined &&
      (!hit.open || (writtenAt !== undefined && writtenAt + DESCRIPTION_SKEW_MS < cached!.at))
    )
      return hit;
    const fresh = await this.#describeAgain(streamArn);
    const found = shardsHolding(fresh, sequenceNumber);
    if (found.length > 1) throw ambiguous(streamArn, sequenceNumber, found);
    if (found.length === 0)
      throw new ShardNotFoundError(
        `No shard of stream ${streamArn} holds sequence number ${sequenceNumber} (${fresh.length} shards described): check that the event source mapping reads this pipeline's table`,
      );
    return found[0]!;
  }

  /** Notes that an event of `streamArn` named its shard `shardId`, so `parentsOf` knows where to look. */
  public named(streamArn: string, shardId: string): void {
    if (this.#streamOf.get(shardId) === streamArn) return;
    if (this.#streamOf.size >= MAX_NAMED_SHARDS) this.#streamOf.clear();
    this.#streamOf.set(shardId, streamArn);
  }

  /**
   * The parents of `shardId` in the descriptions cached; for a shard none lists but an event named
   * (`named`), in its stream described again (then cached: the operator asks only before a shard's first
   * commit). None when no description lists it.
   */
  public async parentsOf(shardId: string): Promise<readonly string[]> {
    const known = this.#cachedShard(shardId);
    if (known !== undefined) return known.parents;
    const streamArn = this.#streamOf.get(shardId);
    if (streamArn === undefined) return [];
    await this.#describeAgain(streamArn);
    return this.#cachedShard(shardId)?.parents ?? [];
  }

  #cachedShard(shardId: string): TableStreamShard | undefined {
    for (const { shards } of this.#cached.values()) {
      const shard = shards.find((s) => s.id === shardId);
      if (shard !== undefined) return shard;
    }
    return undefined;
  }

  async #describeAgain(streamArn: string): Promise<readonly TableStreamShard[]> {
    const at = this.#now();
    const fresh = await this.#describe(streamArn);
    this.#cached.set(streamArn, { shards: fresh, at });
    return fresh;
  }
}

function ambiguous(
  streamArn: string,
  sequenceNumber: string,
  shards: readonly TableStreamShard[],
): AmbiguousShardError {
  return new AmbiguousShardError(
    `Sequence number ${sequenceNumber} of stream ${streamArn} is in the range of ${shards.length} shards (${shards
      .map((s) => s.id)
      .join(
        ', ',
      )}): the records do not name their shard, so the batch cannot be fenced; set TumblingWindowInSeconds on the event source mapping (Lambda then names the shard in the event's shardId)`,
  );
}
