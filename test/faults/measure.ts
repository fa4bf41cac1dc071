/**
 * Measures the figures of issue 4 on the embedded emulators (DynamoDB Local + s3rver):
 *   1. DynamoDB requests per 1,000 records with 1,000-record batches over 50 keys (one shard);
 *   2. the conditional-check conflict rate with the same keys spread over 4 shards applied concurrently.
 * Run: npx tsx test/faults/measure.ts
 */
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import { pageActivity } from '../../functions/pipelines';
import { onLocalCloud, pageViewBatch as batch, T0 } from './emulatorRun';
import { createBucket, createStateTable } from './localResources';

async function main(): Promise<void> {
  await onLocalCloud(async (clients) => {
    await createStateTable(clients.dynamoDb, 'measure');
    await createBucket(clients.s3, 'measure');
    const objects = new S3ObjectStore({ bucket: 'measure', client: clients.s3 });
    let now = T0;
    const clock = { now: () => now };

    // 1. One shard, 10 batches of 1,000 records, 50 keys; each batch spans 30 s of event time.
    const store = new DynamoDBStateStore({ tableName: 'measure', client: clients.dynamoDb });
    const processor = new BatchProcessor({
      pipeline: pageActivity,
      store,
      objects,
      encoder: new ParquetResultEncoder(),
      clock,
    });
    // page-activity is provisioned with 2 shards; the tick registers the second, which then goes idle.
    await processor.tick(undefined, { shardIds: ['shardId-000000000000', 'shardId-000000000009'] });
    now += 31_000;
    const lines: string[] = [];
    let total = 0;
    let records = 0;
    let emittedTotal = 0;
    const started = performance.now();
    for (let b = 0; b < 10; b++) {
      const before = store.stats.requests;
      now += 1_000;
      const result = await processor.apply(
        batch('shardId-000000000000', 1 + b * 1_000, 1_000, T0 + b * 30_000, 30_000),
      );
      const requests = store.stats.requests - before;
      total += requests;
      records += 1_000;
      emittedTotal += result.windowsEmitted;
      lines.push(
        `batch ${b + 1}: ${result.windowsWritten} (key, window) written, ${result.windowsEmitted} emitted, ${requests} DynamoDB requests`,
      );
    }
    const elapsed = performance.now() - started;
    console.log(lines.join('\n'));
    console.log(
      `=> ${((records / elapsed) * 1_000).toFixed(0)} records/s through the apply path on the emulators (one instance, in process)`,
    );
    console.log(
      `=> ${((total / records) * 1_000).toFixed(1)} DynamoDB requests per 1,000 records, emission of ${emittedTotal} windows included (open→emitting→emitted: 2 writes each, plus index query, closed-watermark raise and next-close lookup per close pass)`,
    );

    // 2. Four shards, same 50 keys, batches applied concurrently by four instances.
    const shards = [
      'shardId-000000000001',
      'shardId-000000000002',
      'shardId-000000000003',
      'shardId-000000000004',
    ];
    await createStateTable(clients.dynamoDb, 'measure4');
    const stores = shards.map(
      () => new DynamoDBStateStore({ tableName: 'measure4', client: createClients().dynamoDb }),
    );
    const processors = stores.map(
      (s) =>
        new BatchProcessor({
          pipeline: pageActivity,
          store: s,
          objects,
          encoder: new ParquetResultEncoder(),
          clock,
        }),
    );
    let writes = 0;
    let applyConflicts = 0;
    for (let b = 0; b < 5; b++) {
      now += 1_000;
      const results = await Promise.all(
        processors.map((p, i) => p.apply(batch(shards[i] ?? '', 1 + b * 250, 250, T0 + b * 30_000, 30_000))),
      );
      writes += results.reduce((s, r) => s + r.windowsWritten, 0);
      applyConflicts += results.reduce((s, r) => s + r.conflicts, 0);
    }
    const requests4 = stores.reduce((s, x) => s + x.stats.requests, 0);
    console.log(
      `=> 4 shards: ${((requests4 / 5_000) * 1_000).toFixed(1)} DynamoDB requests per 1,000 records (250-record batches, emissions included)`,
    );
    const conflicts = stores.reduce((s, x) => s + x.stats.conflicts, 0);
    console.log(
      `=> 4 shards x 5 rounds x 250 records, all four shards starting at the same instant (worst case): ${conflicts} conditional-check conflicts (${applyConflicts} on partial writes) over ${writes} partial window writes: ${((applyConflicts / writes) * 100).toFixed(1)}% of partial writes re-merged, all resolved`,
    );

    // 3. The same, but each shard's invocation starts at a random point of a 1 s polling interval.
    await createStateTable(clients.dynamoDb, 'measure4s');
    const staggeredStores = shards.map(
      () => new DynamoDBStateStore({ tableName: 'measure4s', client: createClients().dynamoDb }),
    );
    const staggered = staggeredStores.map(
      (s) =>
        new BatchProcessor({
          pipeline: pageActivity,
          store: s,
          objects,
          encoder: new ParquetResultEncoder(),
          clock,
        }),
    );
    let staggeredWrites = 0;
    let staggeredApplyConflicts = 0;
    for (let b = 0; b < 5; b++) {
      now += 1_000;
      const results = await Promise.all(
        staggered.map(async (p, i) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 1_000));
          return p.apply(batch(shards[i] ?? '', 1 + b * 250, 250, T0 + b * 30_000, 30_000));
        }),
      );
      staggeredWrites += results.reduce((s, r) => s + r.windowsWritten, 0);
      staggeredApplyConflicts += results.reduce((s, r) => s + r.conflicts, 0);
    }
    const staggeredConflicts = staggeredStores.reduce((s, x) => s + x.stats.conflicts, 0);
    console.log(
      `=> 4 shards, invocations at random points of a 1 s interval: ${staggeredConflicts} conflicts (${staggeredApplyConflicts} on partial writes, ${staggeredConflicts - staggeredApplyConflicts} on emission transitions) over ${staggeredWrites} partial window writes: ${((staggeredApplyConflicts / staggeredWrites) * 100).toFixed(1)}% of partial writes re-merged`,
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
