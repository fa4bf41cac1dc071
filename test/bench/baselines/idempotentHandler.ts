import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context, KinesisStreamEvent } from 'aws-lambda';

interface ClickValue {
  eventId: string;
  page: string;
  ts: string;
  revenue: number;
  action: string;
}

/**
 * Baseline (b): the textbook exactly-once fix — Powertools idempotency around a per-record `UpdateItem ADD`,
 * keyed by the event id. Correct under redelivery, but it pays an idempotency record write (in progress),
 * the update, and the completion write for every record.
 */
export function idempotentHandler(client: DynamoDBClient, tableName: string, idempotencyTableName: string) {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: idempotencyTableName,
    awsSdkV3Client: client,
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'eventId', expiresAfterSeconds: 3600 });
  // Outside Lambda there is no context; Powertools only reads the remaining time from it (for in-progress expiry).
  config.registerLambdaContext({ getRemainingTimeInMillis: () => 60_000 } as Context);
  const apply = makeIdempotent(
    async (value: ClickValue): Promise<boolean> => {
      const windowStart = Math.floor(Date.parse(value.ts) / 60_000) * 60_000;
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: `idem#${value.page}` }, sk: { S: String(windowStart) } },
          UpdateExpression: 'ADD events :one, purchases :p, revenue :r',
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':p': { N: value.action === 'purchase' ? '1' : '0' },
            ':r': { N: String(value.revenue) },
          },
        }),
      );
      return true;
    },
    { persistenceStore, config },
  );
  return async (event: KinesisStreamEvent): Promise<void> => {
    for (const record of event.Records) {
      const value = JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as ClickValue;
      await apply(value);
    }
  };
}
