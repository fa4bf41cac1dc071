import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STATE_TABLE } from '../../functions/core/constants';

/** What the sparse open-windows GSI carries: the stack uses `ALL`, the fault suite's tables `KEYS_ONLY`. */
export type OpenWindowsProjection = 'ALL' | 'KEYS_ONLY';

/**
 * Creates the state table on a local cloud with the stack's key schema: pk/sk and the sparse
 * open-windows GSI, on-demand billing.
 */
export async function createStateTable(
  client: DynamoDBClient,
  tableName: string,
  projection: OpenWindowsProjection,
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: STATE_TABLE.PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: STATE_TABLE.SORT_KEY, AttributeType: 'S' },
        { AttributeName: STATE_TABLE.OPEN_WINDOWS_PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: STATE_TABLE.OPEN_WINDOWS_SORT_KEY, AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: STATE_TABLE.PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE.SORT_KEY, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: STATE_TABLE.OPEN_WINDOWS_INDEX,
          KeySchema: [
            { AttributeName: STATE_TABLE.OPEN_WINDOWS_PARTITION_KEY, KeyType: 'HASH' },
            { AttributeName: STATE_TABLE.OPEN_WINDOWS_SORT_KEY, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: projection },
        },
      ],
    }),
  );
}
