/**
 * Where the time of one 1,000-record batch goes on the emulators: wall time per state-store and object-store
 * method (summed over concurrent calls). Run: npx tsx test/faults/profileApply.ts
 */
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { RawRecord } from '../../functions/core/types';
import { pageActivity } from '../../functions/pipelines';
import { onLocalCloud, pageViewBatch, T0 } from './emulatorRun';
import { createBucket, createStateTable } from './localResources';

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

/** One shard's 1,000-record batch spanning 30 s of event time. */
function batch(firstSeq: number, firstTs: number): RawRecord[] {
  return pageViewBatch('shardId-000000000000', firstSeq, 1_000, firstTs, 30_000);
}

async function main(): Promise<void> {
  await onLocalCloud(async (clients) => {
    await createStateTable(clients.dynamoDb, 'profile');
    await createBucket(clients.s3, 'profile');
    let now = T0;
    const store = timed(new DynamoDBStateStore({ tableName: 'profile', client: clients.dynamoDb }), 'state');
    const objects = timed(new S3ObjectStore({ bucket: 'profile', client: clients.s3 }), 's3');
    const processor = new BatchProcessor({
      pipeline: pageActivity,
      store,
      objects,
      encoder: new ParquetResultEncoder(),
      clock: { now: () => now },
    });
    await processor.tick(undefined, { shardIds: ['shardId-000000000000', 'shardId-000000000009'] });
    now += 31_000;
    for (const key of Object.keys(spent)) delete spent[key];
    const started = performance.now();
    for (let b = 0; b < 6; b++) {
      now += 1_000;
      await processor.apply(batch(1 + b * 1_000, T0 + b * 30_000));
    }
    const total = performance.now() - started;
    console.log(
      `6 batches x 1,000 records in ${total.toFixed(0)} ms (${((6_000 / total) * 1_000).toFixed(0)} records/s)`,
    );
    for (const [name, { calls, ms }] of Object.entries(spent).sort((a, b) => b[1].ms - a[1].ms))
      console.log(`${name}: ${calls} calls, ${ms.toFixed(0)} ms summed, ${(ms / calls).toFixed(1)} ms each`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
