import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { STATE_TABLE } from '../../functions/core/constants';
import { describeStateStoreContract } from '../helpers/stateStoreContract';
import { useLocalCloud } from '../helpers/localCloud';

useLocalCloud();

const TABLE = `state-${process.pid}`;
let created: Promise<void> | undefined;

/** The state table as the stack creates it: pk/sk, sparse open-windows GSI. */
async function ensureTable(client: DynamoDBClient): Promise<void> {
  created ??= client
    .send(
      new CreateTableCommand({
        TableName: TABLE,
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
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    )
    .then(() => undefined);
  await created;
}

/** A client whose conditional-check failures carry no item: the path for emulators without ALL_OLD. */
function clientWithoutAllOld(): DynamoDBClient {
  const client = createClients().dynamoDb;
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) delete error.Item;
        throw error;
      }
    },
    { step: 'initialize', name: 'stripAllOld' },
  );
  return client;
}

describeStateStoreContract('DynamoDBStateStore on the local cloud', async () => {
  const client = createClients().dynamoDb;
  await ensureTable(client);
  return { store: new DynamoDBStateStore({ tableName: TABLE, client }), sibling: () => new DynamoDBStateStore({ tableName: TABLE, client: createClients().dynamoDb }) };
});

describeStateStoreContract('DynamoDBStateStore without ALL_OLD (consistent re-read fallback)', async () => {
  await ensureTable(createClients().dynamoDb);
  return { store: new DynamoDBStateStore({ tableName: TABLE, client: clientWithoutAllOld() }), sibling: () => new DynamoDBStateStore({ tableName: TABLE, client: clientWithoutAllOld() }) };
});
