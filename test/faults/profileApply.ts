/**
 * Where the time of one 1,000-record batch goes on the emulators: wall time per state-store and object-store
 * method (summed over concurrent calls). Run: npx tsx test/faults/profileApply.ts
 */
import { randomUUID } from 'node:crypto';
import { createClients, resetClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { RawRecord } from '../../functions/core/types';
import { pageActivity } from '../../functions/pipelines';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalCloud } from '../../localstack/emulators';
import { createBucket, createStateTable } from './localResources';

const T0 = Date.UTC(2026, 5, 1, 10, 0, 0);
const spent: Record<string, { calls: number; ms: number }> = {};

function timed<T extends object>(target: T, label: string): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const started = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        } finally {
          const entry = (spent[`${label}.${String(property)}`] ??= { calls: 0, ms: 0 });
          entry.calls += 1;
          entry.ms += performance.now() - started;
        }
      };
    },
  });
}

function batch(firstSeq: number, firstTs: number): RawRecord[] {
  return Array.from({ length: 1_000 }, (_, i) => {
    const ts = firstTs + Math.floor(i * 30);
    const event = { eventId: randomUUID(), userId: `u${i % 97}`, sessionId: 's', page: `/page/${i % 50}`, action: 'view', country: 'DE', device: 'mobile', durationMs: i % 500, revenue: 0, ts: new Date(ts).toISOString() };
    return { shardId: 'shardId-000000000000', sequenceNumber: String(firstSeq + i), partitionKey: String(i), data: Buffer.from(JSON.stringify(event)).toString('base64'), approximateArrivalTimestamp: ts };
  });
}

async function main(): Promise<void> {
  const cloud = await startLocalCloud({ edgePort: 0 });
  Object.assign(process.env, { AWS_ENDPOINT_URL: cloud.endpoint, AWS_REGION: LOCAL_REGION, AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey });
  resetClients();
  try {
    const clients = createClients();
    await createStateTable(clients.dynamoDb, 'profile');
    await createBucket(clients.s3, 'profile');
    let now = T0;
    const store = timed(new DynamoDBStateStore({ tableName: 'profile', client: clients.dynamoDb }), 'state');
    const objects = timed(new S3ObjectStore({ bucket: 'profile', client: clients.s3 }), 's3');
    const processor = new BatchProcessor({ pipeline: pageActivity, store, objects, encoder: new ParquetResultEncoder(), clock: { now: () => now } });
    await processor.tick(undefined, { shardIds: ['shardId-000000000000', 'shardId-000000000009'] });
    now += 31_000;
    for (const key of Object.keys(spent)) delete spent[key];
    const started = performance.now();
    for (let b = 0; b < 6; b++) {
      now += 1_000;
      await processor.apply(batch(1 + b * 1_000, T0 + b * 30_000));
    }
    const total = performance.now() - started;
    console.log(`6 batches x 1,000 records in ${total.toFixed(0)} ms (${((6_000 / total) * 1_000).toFixed(0)} records/s)`);
    for (const [name, { calls, ms }] of Object.entries(spent).sort((a, b) => b[1].ms - a[1].ms)) console.log(`${name}: ${calls} calls, ${ms.toFixed(0)} ms summed, ${(ms / calls).toFixed(1)} ms each`);
  } finally {
    await cloud.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
