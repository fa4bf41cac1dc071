import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { applyTableChanges } from '../../../../localstack/start/applyTableChanges';
import { InputError } from '../../../../localstack/start/errors';
import { parseChangeFile } from '../../../../localstack/start/tableChangeFile';

describe('applying a change file to the source table', () => {
  it('when DynamoDB refuses a write midway, it fails in one line naming the file, the line, the writes applied and what to do', async () => {
    const sent: string[] = [];
    const refusal = Object.assign(new Error('One or more parameter values were invalid\nmore detail'), {
      name: 'ValidationException',
    });
    const dynamoDb = {
      send: jest.fn(async (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        if (sent.length === 2) throw refusal;
        return {};
      }),
    } as unknown as DynamoDBClient;
    const changes = parseChangeFile(
      ['{"put": {"orderId": "o1"}}', '', '{"delete": {"orderId": "o1"}}', '{"put": {"orderId": "o2"}}'].join(
        '\n',
      ),
      [{ name: 'orderId', type: 'S' }],
      'changes/orders.jsonl',
    );
    const applied: number[] = [];
    const error = await applyTableChanges(dynamoDb, 'orders', changes, (n) => applied.push(n)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(
      'changes/orders.jsonl line 3: DynamoDB refused the delete on orders (ValidationException: One or more parameter values were invalid); the 1 write before it was applied: fix the line and run again (each run starts the local cloud, and the table, afresh)',
    );
    expect(sent).toEqual(['PutItemCommand', 'DeleteItemCommand']);
    expect(applied).toEqual([1]);
  });
});
