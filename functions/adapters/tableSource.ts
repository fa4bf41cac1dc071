/**
 * The runtime part that reads a table's DynamoDB stream (change data capture, `runtimeParts.ts`): Lambda's
 * DynamoDB-stream events, each batch's shard the one the event names (`shardId`, with a tumbling window), else
 * found by `DescribeStream` (the records do not name theirs).
 */
import { dynamoDbStreamsClient } from './aws';
import { decodeDynamoDBStreamEvent } from './dynamoDBStreamEventCodec';
import type { SourcePart } from './runtimeParts';
import { describeTableStreamShards, TableShardResolver } from './tableStreamShards';

export const tableSource: SourcePart = {
  name: 'tableSource',
  open(spec, stream) {
    const table = spec.source.table;
    if (table === undefined)
      throw new TypeError(`Pipeline ${spec.name} reads stream ${spec.source.stream}, not a table`);
    const tableShards = (arn: string) => describeTableStreamShards(dynamoDbStreamsClient(), arn);
    const resolver = new TableShardResolver(tableShards);
    return {
      decode: (event) => decodeDynamoDBStreamEvent(event, table.view, resolver),
      // For a table source the configured stream is the table's stream ARN.
      ...(stream === undefined ? {} : { listShards: () => tableShards(stream) }),
      shardParents: async (shardId) => resolver.parentsOf(shardId),
    };
  },
};
