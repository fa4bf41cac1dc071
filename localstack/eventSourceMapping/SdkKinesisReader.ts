import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { GetRecordsResult, KinesisReader, ShardDescription, ShardIteratorRequest } from './types';

/** Options of {@link SdkKinesisReader}. */
export interface SdkKinesisReaderOptions {
  /**
   * How requests name the stream: by `StreamARN`, or by `StreamName` (the ARN's last part, same account and
   * region as the client) for emulators that predate `StreamARN`, such as kinesalite.
   * @default 'arn'
   */
  readonly addressStreamsBy?: 'arn' | 'name';
}

/** The Kinesis read port over the AWS SDK v3 client (pass the one from the client factory). */
export class SdkKinesisReader implements KinesisReader {
  readonly #byName: boolean;

  public constructor(
    private readonly client: KinesisClient,
    options: SdkKinesisReaderOptions = {},
  ) {
    this.#byName = options.addressStreamsBy === 'name';
  }

  /** `{ StreamARN }`, or `{ StreamName }` when streams are addressed by name. */
  #stream(streamArn: string): { StreamARN: string } | { StreamName: string } {
    return this.#byName
      ? { StreamName: streamArn.slice(streamArn.lastIndexOf('/') + 1) }
      : { StreamARN: streamArn };
  }

  public async listShards(streamArn: string): Promise<readonly ShardDescription[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        nextToken === undefined
          ? new ListShardsCommand(this.#stream(streamArn))
          : new ListShardsCommand({ NextToken: nextToken }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return shards.map((shard) => ({
      shardId: shard.ShardId ?? '',
      ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
      ...(shard.AdjacentParentShardId ? { adjacentParentShardId: shard.AdjacentParentShardId } : {}),
      ...(shard.SequenceNumberRange?.EndingSequenceNumber
        ? { endingSequenceNumber: shard.SequenceNumberRange.EndingSequenceNumber }
        : {}),
    }));
  }

  public async streamCreatedAt(streamArn: string): Promise<number | undefined> {
    const output = await this.client.send(new DescribeStreamSummaryCommand(this.#stream(streamArn)));
    return output.StreamDescriptionSummary?.StreamCreationTimestamp?.getTime();
  }

  public async getShardIterator(
    streamArn: string,
    shardId: string,
    request: ShardIteratorRequest,
  ): Promise<string> {
    const output = await this.client.send(
      new GetShardIteratorCommand({
        ...this.#stream(streamArn),
        ShardId: shardId,
        ShardIteratorType: request.type,
        ...(request.type === 'AT_TIMESTAMP' ? { Timestamp: new Date(request.timestamp) } : {}),
        ...(request.type === 'AFTER_SEQUENCE_NUMBER' || request.type === 'AT_SEQUENCE_NUMBER'
          ? { StartingSequenceNumber: request.sequenceNumber }
          : {}),
      }),
    );
    if (output.ShardIterator === undefined)
      throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
    return output.ShardIterator;
  }

  public async getRecords(shardIterator: string, limit: number): Promise<GetRecordsResult> {
    const output = await this.client.send(
      new GetRecordsCommand({ ShardIterator: shardIterator, Limit: limit }),
    );
    return {
      records: (output.Records ?? []).map((record) => ({
        sequenceNumber: record.SequenceNumber ?? '',
        partitionKey: record.PartitionKey ?? '',
        data: record.Data ?? new Uint8Array(),
        approximateArrivalTimestamp: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
      })),
      ...(output.NextShardIterator ? { nextShardIterator: output.NextShardIterator } : {}),
      millisBehindLatest: output.MillisBehindLatest ?? 0,
    };
  }
}
