import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../../functions/core/constants';

/** Creates the state table on a local cloud with the stack's key schema: pk/sk strings, on-demand billing. */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: STATE_TABLE.PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: STATE_TABLE.SORT_KEY, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: STATE_TABLE.PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE.SORT_KEY, KeyType: 'RANGE' },
      ],
    }),
  );
}
