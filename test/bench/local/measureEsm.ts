/**
 * Measures the local ESM runtime on the embedded cloud: put→invoke latency of single records and
 * drain throughput of a backlog (no-op handler in a warm worker). Run: `npx tsx test/bench/local/measureEsm.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../../functions/adapters/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalCloud } from '../../../localstack/emulators';
import {
  EventSourceMappingRuntime,
  MemoryCheckpointStore,
  SdkKinesisReader,
  WorkerInvoker,
} from '../../../localstack/eventSourceMapping';
import { createActiveStream } from '../../helpers/streamRoundTrip';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'esm-measure-'));
  const handlerFile = join(dir, 'index.js');
  writeFileSync(handlerFile, 'exports.handler = async () => null;\n');
  const cloud = await startLocalCloud({ edgePort: 0 });
  const kinesis = kinesisClient({
    endpoint: cloud.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    for (const [name, shards] of [
      ['latency', 1],
      ['backlog', 2],
    ] as const) {
      await createActiveStream(kinesis, name, shards);
    }
    const arn = (name: string): string => `arn:aws:kinesis:${LOCAL_REGION}:000000000000:stream/${name}`;
    const fn = {
      functionName: 'noop',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:noop',
      entryFile: handlerFile,
      exportName: 'handler',
      timeoutSeconds: 30,
      memorySize: 256,
      environment: {},
      roleArn: 'arn:aws:iam::000000000000:role/r',
      region: LOCAL_REGION,
    };

    // Latency: one record at a time, time from PutRecords start to the invocation.
    let invokedAt = 0;
    const latency = new EventSourceMappingRuntime({
      mappings: [
        { uuid: 'lat', functionName: 'noop', eventSourceArn: arn('latency'), startingPosition: 'LATEST' },
      ],
      functions: [fn],
      kinesis: new SdkKinesisReader(kinesis),
      invoker: new WorkerInvoker(),
      checkpoints: new MemoryCheckpointStore(),
      hooks: { onInvoke: () => void (invokedAt = performance.now()) },
    });
    await latency.start();
    await latency.idle();
    const samples: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      invokedAt = 0;
      const start = performance.now();
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'latency',
          Records: [{ PartitionKey: 'k', Data: Buffer.from(String(i)) }],
        }),
      );
      while (invokedAt === 0) await new Promise((r) => setTimeout(r, 2));
      samples.push(invokedAt - start);
    }
    await latency.stop();
    samples.sort((a, b) => a - b);
    console.log(
      `put->invoke latency ms: p50 ${samples[7]?.toFixed(0)} max ${samples[14]?.toFixed(0)} (poll interval 200 ms)`,
    );

    // Throughput: a 20 000-record backlog on 2 shards, BatchSize 500.
    const total = 20_000;
    const payload = Buffer.from(JSON.stringify({ page: '/p/1', user: 'u-1', ts: 1_700_000_000_000 }));
    for (let i = 0; i < total; i += 500) {
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'backlog',
          Records: Array.from({ length: 500 }, (_, j) => ({
            PartitionKey: `k${(i + j) % 97}`,
            Data: payload,
          })),
        }),
      );
    }
    let delivered = 0;
    const backlog = new EventSourceMappingRuntime({
      mappings: [
        {
          uuid: 'tp',
          functionName: 'noop',
          eventSourceArn: arn('backlog'),
          startingPosition: 'TRIM_HORIZON',
          batchSize: 500,
        },
      ],
      functions: [fn],
      kinesis: new SdkKinesisReader(kinesis),
      invoker: new WorkerInvoker(),
      checkpoints: new MemoryCheckpointStore(),
      hooks: { onInvoke: (info) => void (delivered += info.event.Records.length) },
    });
    const started = performance.now();
    await backlog.start();
    await backlog.idle(120_000);
    const seconds = (performance.now() - started) / 1000;
    await backlog.stop();
    console.log(
      `backlog drain: ${delivered} records in ${seconds.toFixed(2)} s = ${(delivered / seconds).toFixed(0)} records/s (2 shards, BatchSize 500, via edge)`,
    );
  } finally {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
