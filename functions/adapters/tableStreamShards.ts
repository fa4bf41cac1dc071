/**
 * The shards of a table's DynamoDB stream, as `DescribeStream` describes them, and which shard a record
 * belongs to. Lambda's DynamoDB-stream records do not name their shard, but the exactly-once fence is per
 * shard: a batch comes from one shard, so the shard whose sequence number range holds the batch's first
 * record is the batch's shard.
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

/** The shard whose range holds `sequenceNumber` (a decimal string), or undefined. */
export function shardHolding(
  shards: readonly TableStreamShard[],
  sequenceNumber: string,
): TableStreamShard | undefined {
  const sequence = padSequence(sequenceNumber);
  return shards.find(
    (s) =>
      padSequence(s.starting) <= sequence && (s.ending === undefined || sequence <= padSequence(s.ending)),
  );
}

/**
 * How long before a description a change must have been written for an open shard of that description to
 * be its shard: change times have whole seconds, and the stream's clock is not this function's.
 */
const DESCRIPTION_SKEW_MS = 2_000;

/**
 * Which shard a sequence number is in, from a description cached per stream and described again when it
 * cannot tell: when it holds no such shard, or when the holding shard was still open and the change may be
 * newer than the description (that shard may have split since, and the change be in a child: a shard's
 * range is fixed once it is closed, and a change written before the description is in a shard it lists).
 */
export class TableShardResolver {
  readonly #describe: (streamArn: string) => Promise<readonly TableStreamShard[]>;
  readonly #now: () => number;
  readonly #cached = new Map<string, { shards: readonly TableStreamShard[]; at: number }>();

  public constructor(
    describe: (streamArn: string) => Promise<readonly TableStreamShard[]>,
    now: () => number = Date.now,
  ) {
    this.#describe = describe;
    this.#now = now;
  }

  /**
   * The shard of `streamArn` holding `sequenceNumber`, a change written at `writtenAt` (epoch ms; undefined
   * when unknown).
   * @throws ShardNotFoundError when the stream, described afresh, has no such shard.
   */
  public async shardOf(
    streamArn: string,
    sequenceNumber: string,
    writtenAt?: number,
  ): Promise<TableStreamShard> {
    const cached = this.#cached.get(streamArn);
    const hit = cached === undefined ? undefined : shardHolding(cached.shards, sequenceNumber);
    if (
      hit !== undefined &&
      (!hit.open || (writtenAt !== undefined && writtenAt + DESCRIPTION_SKEW_MS < cached!.at))
    )
      return hit;
    const at = this.#now();
    const fresh = await this.#describe(streamArn);
    this.#cached.set(streamArn, { shards: fresh, at });
    const found = shardHolding(fresh, sequenceNumber);
    if (found === undefined)
      throw new ShardNotFoundError(
        `No shard of stream ${streamArn} holds sequence number ${sequenceNumber} (${fresh.length} shards described): check that the event source mapping reads this pipeline's table`,
      );
    return found;
  }

  /** The parents of `shardId` in the streams described so far (none when it is not known). */
  public parentsOf(shardId: string): readonly string[] {
    for (const { shards } of this.#cached.values()) {
      const shard = shards.find((s) => s.id === shardId);
      if (shard !== undefined) return shard.parents;
    }
    return [];
  }
}
