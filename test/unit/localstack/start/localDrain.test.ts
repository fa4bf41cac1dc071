import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TablePlan } from '../../../../localstack/deployer/types';
import { NotRunningError } from '../../../../localstack/start/errors';
import { deployedTableStreamArns } from '../../../../localstack/start/localDrain';

const table = (logicalId: string, name: string, streamed: boolean): TablePlan => ({
  logicalId,
  name,
  arn: `arn:aws:dynamodb:us-east-1:000000000000:table/${name}`,
  keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  attributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  globalSecondaryIndexes: [],
  billingMode: 'PAY_PER_REQUEST',
  ...(streamed ? { streamViewType: 'NEW_AND_OLD_IMAGES' } : {}),
  ttlAttribute: 'expiresAt',
});

/** A DynamoDB client whose tables are `existing` (name → stream ARN); it records every command. */
function client(existing: Record<string, string>) {
  const sent: string[] = [];
  const dynamoDb = {
    send: async (command: { constructor: { name: string }; input: { TableName?: string } }) => {
      sent.push(`${command.constructor.name} ${command.input.TableName ?? ''}`);
      const arn = existing[command.input.TableName ?? ''];
      if (command.constructor.name !== 'DescribeTableCommand' || arn === undefined)
        throw Object.assign(new Error('Cannot do operations on a non-existent table'), {
          name: 'ResourceNotFoundException',
        });
      return { Table: { TableName: command.input.TableName, LatestStreamArn: arn, TableStatus: 'ACTIVE' } };
    },
  } as unknown as DynamoDBClient;
  return { dynamoDb, sent };
}

describe('the local drain’s view of the deployed tables', () => {
  const ORDERS_STREAM = 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-12-06T16:40:00.123';

  it('when the deployed tables exist, it reads their stream ARNs by DescribeTable only, creating nothing', async () => {
    const { dynamoDb, sent } = client({ orders: ORDERS_STREAM, state: '' });
    await expect(
      deployedTableStreamArns(
        dynamoDb,
        [table('Orders', 'orders', true), table('State', 'state', false)],
        'p',
      ),
    ).resolves.toEqual({ Orders: ORDERS_STREAM });
    expect(sent).toEqual(['DescribeTableCommand orders']);
  });

  it('when a deployed table is missing, it fails naming it and the next step, and creates it not', async () => {
    const { dynamoDb, sent } = client({});
    const error = await deployedTableStreamArns(
      dynamoDb,
      [table('Orders', 'orders', true)],
      'order-revenue',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotRunningError);
    expect((error as Error).message).toBe(
      'Table orders of the deployed stack is not on the local cloud (ResourceNotFoundException), so its tick cannot drain pipeline order-revenue: deploy the old definition again with "npx shardflow deploy --local", stop it, then deploy the new one with --drain',
    );
    expect(sent).toEqual(['DescribeTableCommand orders']);
  });
});
