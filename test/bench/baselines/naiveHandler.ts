import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';

/**
 * Baseline (a): the hand-rolled Lambda most teams write first — one `UpdateItem ADD` per record into a
 * per-(key, minute) counter. Not exactly-once (a redelivered batch counts twice); here only to count requests.
 */
export function naiveHandler(client: DynamoDBClient, tableName: string) {
  return async (event: KinesisStreamEvent): Promise<void> => {
    for (const record of event.Records) {
      const value = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as {
        page: string;
        ts: string;
        revenue: number;
        action: string;
      };
      const windowStart = Math.floor(Date.parse(value.ts) / 60_000) * 60_000;
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: `naive#${value.page}` }, sk: { S: String(windowStart) } },
          UpdateExpression: 'ADD events :one, purchases :p, revenue :r',
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':p': { N: value.action === 'purchase' ? '1' : '0' },
            ':r': { N: String(value.revenue) },
          },
        }),
      );
    }
  };
}
