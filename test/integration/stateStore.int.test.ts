import {
  ConditionalCheckFailedException,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { StateItem } from '../../functions/core/state/stateItems';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { describeLatenessChangeContract } from '../helpers/latenessChangeContract';
import { describeLatenessRaceContract } from '../helpers/latenessRaceContract';
import { describeStateShapeContract } from '../helpers/stateShapeContract';
import { describeStateStoreContract } from '../helpers/stateStoreContract';
import { useLocalCloud } from '../helpers/localCloud';
import { createStateTable } from '../helpers/stateTable';

useLocalCloud();

const TABLE = `state-${process.pid}`;
let created: Promise<void> | undefined;

/** The state table as the stack creates it: pk/sk. */
async function ensureTable(client: DynamoDBClient): Promise<void> {
  created ??= createStateTable(client, TABLE);
  await created;
}

/** Puts `item` as it is. */
async function putRaw(client: DynamoDBClient, item: StateItem): Promise<void> {
  await client.send(new PutItemCommand({ TableName: TABLE, Item: item as Record<string, AttributeValue> }));
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
  return {
    store: new DynamoDBStateStore({ tableName: TABLE, client }),
    sibling: () => new DynamoDBStateStore({ tableName: TABLE, client: createClients().dynamoDb }),
    putItem: (item) => putRaw(client, item),
  };
});

describeStateStoreContract('DynamoDBStateStore without ALL_OLD (consistent re-read fallback)', async () => {
  await ensureTable(createClients().dynamoDb);
  return {
    store: new DynamoDBStateStore({ tableName: TABLE, client: clientWithoutAllOld() }),
    sibling: () => new DynamoDBStateStore({ tableName: TABLE, client: clientWithoutAllOld() }),
    putItem: (item) => putRaw(createClients().dynamoDb, item),
  };
});

describeStateShapeContract('DynamoDBStateStore on the local cloud', async () => {
  const client = createClients().dynamoDb;
  await ensureTable(client);
  return new DynamoDBStateStore({ tableName: TABLE, client });
});

describeLatenessChangeContract('DynamoDBStateStore on the local cloud', async () => {
  const client = createClients().dynamoDb;
  await ensureTable(client);
  return new DynamoDBStateStore({ tableName: TABLE, client });
});

describeLatenessRaceContract('DynamoDBStateStore on the local cloud', async () => {
  const client = createClients().dynamoDb;
  await ensureTable(client);
  return new DynamoDBStateStore({ tableName: TABLE, client });
});
