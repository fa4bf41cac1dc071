import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { GetRecordsResult, KinesisReader, ShardDescription, ShardIteratorRequest } from './types';

/** The Kinesis read port over the AWS SDK v3 client (pass the one from the client factory). */
export class SdkKinesisReader implements KinesisReader {
  public constructor(private readonly client: KinesisClient) {}

  public async listShards(streamArn: string): Promise<readonly ShardDescription[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        nextToken === undefined
          ? new ListShardsCommand({ StreamARN: streamArn })
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
    const output = await this.client.send(new DescribeStreamSummaryCommand({ StreamARN: streamArn }));
    return output.StreamDescriptionSummary?.StreamCreationTimestamp?.getTime();
  }

  public async getShardIterator(
    streamArn: string,
    shardId: string,
    request: ShardIteratorRequest,
  ): Promise<string> {
    const output = await this.client.send(
      new GetShardIteratorCommand({
        StreamARN: streamArn,
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
