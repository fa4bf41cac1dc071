/**
 * The stream read port over a table's DynamoDB stream (DescribeStream, GetShardIterator, GetRecords through
 * the client factory's `dynamoDbStreams` client), so the Kinesis mapping machinery polls tables unchanged.
 * Each record's `data` is the record exactly as Lambda's DynamoDB-stream event carries it (DynamoDB JSON
 * images, binary values base64, `ApproximateCreationDateTime` in epoch seconds), without `eventSourceARN`,
 * which the event adds (`streamEvent.ts`).
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
} from '@aws-sdk/client-dynamodb-streams';
import type { GetRecordsResult, KinesisReader, ShardDescription, ShardIteratorRequest } from './types';
import { lambdaJson, lambdaRecord } from '../../functions/adapters/dynamoDBStreamRecord';

/** GetRecords' largest `Limit` on a DynamoDB stream. */
const DYNAMODB_GET_RECORDS_LIMIT = 1_000;
/** Marks an iterator that skips records created before a time: `<prefix><epoch ms>:<iterator>`. */
const FROM_TIME = 'from-time:';

export class SdkDynamoDBStreamReader implements KinesisReader {
  public constructor(
    private readonly client: DynamoDBStreamsClient,
    private readonly now: () => number = Date.now,
  ) {}

  public async listShards(streamArn: string): Promise<readonly ShardDescription[]> {
    const shards: ShardDescription[] = [];
    let start: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(start !== undefined ? { ExclusiveStartShardId: start } : {}),
        }),
      );
      for (const shard of page.StreamDescription?.Shards ?? []) {
        if (shard.ShardId === undefined) continue;
        const ending = shard.SequenceNumberRange?.EndingSequenceNumber;
        shards.push({
          shardId: shard.ShardId,
          ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
          ...(ending ? { endingSequenceNumber: ending } : {}),
        });
      }
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined);
    return shards;
  }

  public async streamCreatedAt(streamArn: string): Promise<number | undefined> {
    const output = await this.client.send(new DescribeStreamCommand({ StreamArn: streamArn, Limit: 1 }));
    return output.StreamDescription?.CreationRequestDateTime?.getTime();
  }

  public async getShardIterator(
    streamArn: string,
    shardId: string,
    request: ShardIteratorRequest,
  ): Promise<string> {
    if (request.type === 'AT_TIMESTAMP') {
      // A DynamoDB stream has no such iterator (a mapping cannot start AT_TIMESTAMP): the runtime only asks
      // for it to read a LATEST mapping again from where it started. Read from TRIM_HORIZON and skip what was
      // created before that second (creation times are whole seconds).
      const from = await this.getShardIterator(streamArn, shardId, { type: 'TRIM_HORIZON' });
      return `${FROM_TIME}${Math.floor(request.timestamp / 1000) * 1000}:${from}`;
    }
    const output = await this.client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: request.type,
        ...(request.type === 'AFTER_SEQUENCE_NUMBER' || request.type === 'AT_SEQUENCE_NUMBER'
          ? { SequenceNumber: request.sequenceNumber }
          : {}),
      }),
    );
    if (output.ShardIterator === undefined)
      throw new Error(`GetShardIterator returned no iterator for ${shardId}`);
    return output.ShardIterator;
  }

  public async getRecords(shardIterator: string, limit: number): Promise<GetRecordsResult> {
    if (!shardIterator.startsWith(FROM_TIME)) return this.read(shardIterator, limit);
    const rest = shardIterator.slice(FROM_TIME.length);
    const colon = rest.indexOf(':');
    const notBefore = Number(rest.slice(0, colon));
    const page = await this.read(rest.slice(colon + 1), limit);
    const first = page.records.findIndex((r) => r.approximateArrivalTimestamp >= notBefore);
    if (first !== -1) return { ...page, records: page.records.slice(first) };
    // Nothing new enough yet: keep skipping; read on at once while records were skipped.
    return {
      records: [],
      ...(page.nextShardIterator === undefined
        ? {}
        : { nextShardIterator: `${FROM_TIME}${notBefore}:${page.nextShardIterator}` }),
      millisBehindLatest: page.records.length > 0 ? 1 : 0,
    };
  }

  private async read(shardIterator: string, limit: number): Promise<GetRecordsResult> {
    const output = await this.client.send(
      new GetRecordsCommand({
        ShardIterator: shardIterator,
        Limit: Math.min(limit, DYNAMODB_GET_RECORDS_LIMIT),
      }),
    );
    const records = (output.Records ?? []).map((record) => {
      const arrival = record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0;
      return {
        sequenceNumber: record.dynamodb?.SequenceNumber ?? '',
        partitionKey: lambdaJson(record.dynamodb?.Keys ?? {}),
        data: Buffer.from(lambdaJson(lambdaRecord(record)), 'utf8'),
        approximateArrivalTimestamp: arrival,
      };
    });
    const last = records[records.length - 1];
    return {
      records,
      ...(output.NextShardIterator ? { nextShardIterator: output.NextShardIterator } : {}),
      // A DynamoDB stream does not say how far behind its tip a read is: an empty read is at the tip.
      millisBehindLatest: last === undefined ? 0 : Math.max(1, this.now() - last.approximateArrivalTimestamp),
    };
  }
}
