/**
 * Measures Kinesis PutRecords/GetRecords throughput through the edge against the emulator directly,
 * so the cost of the single endpoint is a number rather than a guess:
 *
 *   npx tsx test/bench/local/benchmarkEdge.ts [--records 20000] [--concurrency 4]
 */
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../../functions/adapters/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../localstack/emulators/constants';
import { startKinesisEmulator } from '../../../localstack/emulators/kinesisEmulator';
import { startEdgeProxy } from '../../../localstack/edge/EdgeProxy';
import { waitStreamActive } from '../../helpers/streamRoundTrip';

/** Kinesis's PutRecords limit. */
const BATCH = 500;
const RECORD_BYTES = 200;

/** Throughput of one path (direct or edge). */
export interface KinesisRates {
  readonly putRecordsPerSecond: number;
  readonly putRequestsPerSecond: number;
  readonly getRecordsPerSecond: number;
  readonly getRequestsPerSecond: number;
  /** Median latency of a one-record PutRecords, sequential: isolates the per-request proxy cost. */
  readonly smallPutMedianMs: number;
}

const SMALL_REQUESTS = 100;

/**
 * Writes `records` records in PutRecords batches of 500 with `concurrency` requests in flight, then
 * reads them all back with GetRecords (one reader per shard).
 */
export async function measureKinesisRates(
  endpoint: string,
  stream: string,
  records: number,
  concurrency: number,
): Promise<KinesisRates> {
  const client = kinesisClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 4 }));
    await waitStreamActive(client, stream);
    const payload = randomBytes(RECORD_BYTES);
    const batches = Math.ceil(records / BATCH);
    let next = 0;
    const putStart = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches) {
          const batch = next++;
          const entries = Array.from({ length: Math.min(BATCH, records - batch * BATCH) }, (_, i) => ({
            PartitionKey: `key-${batch}-${i}`,
            Data: payload,
          }));
          const result = await client.send(new PutRecordsCommand({ StreamName: stream, Records: entries }));
          if ((result.FailedRecordCount ?? 0) > 0)
            throw new Error(`${result.FailedRecordCount} records failed`);
        }
      }),
    );
    const putSeconds = (performance.now() - putStart) / 1000;

    const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    let read = 0;
    let getRequests = 0;
    const getStart = performance.now();
    await Promise.all(
      shards.map(async (shard) => {
        let iterator = (
          await client.send(
            new GetShardIteratorCommand({
              StreamName: stream,
              ShardId: shard.ShardId,
              ShardIteratorType: 'TRIM_HORIZON',
            }),
          )
        ).ShardIterator;
        while (iterator !== undefined) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          getRequests++;
          read += page.Records?.length ?? 0;
          if ((page.Records?.length ?? 0) === 0 || page.MillisBehindLatest === 0) break;
          iterator = page.NextShardIterator;
        }
      }),
    );
    const getSeconds = (performance.now() - getStart) / 1000;
    if (read !== records) throw new Error(`read ${read} records, wrote ${records}`);
    const latencies: number[] = [];
    for (let i = 0; i < SMALL_REQUESTS; i++) {
      const started = performance.now();
      await client.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: [{ PartitionKey: `small-${i}`, Data: payload }],
        }),
      );
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    return {
      putRecordsPerSecond: records / putSeconds,
      putRequestsPerSecond: batches / putSeconds,
      getRecordsPerSecond: read / getSeconds,
      getRequestsPerSecond: getRequests / getSeconds,
      smallPutMedianMs: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
    };
  } finally {
    client.destroy();
  }
}

/**
 * Median round trip of a small signed POST to a no-op server, sequential over one keep-alive
 * connection: the edge's own per-request cost, without kinesis-mock's (much larger) service time.
 */
export async function measureNoopRoundTrip(requests: number): Promise<{ directMs: number; edgeMs: number }> {
  const noop = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((resolve) => noop.listen(0, '127.0.0.1', resolve));
  const upstream = `http://127.0.0.1:${(noop.address() as AddressInfo).port}`;
  const edge = await startEdgeProxy({
    port: 0,
    upstreams: { kinesis: upstream, dynamodb: upstream, s3: upstream },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ StreamName: 'x', Records: [{ PartitionKey: 'k', Data: 'AAAA' }] });
  const headers = {
    authorization:
      'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
    'x-amz-target': 'Kinesis_20131202.PutRecords',
    'content-type': 'application/x-amz-json-1.1',
  };
  const median = async (base: string): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = request(base, { method: 'POST', agent, headers }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? Number.NaN;
  };
  try {
    await median(upstream);
    await median(edge.endpoint);
    return { directMs: await median(upstream), edgeMs: await median(edge.endpoint) };
  } finally {
    agent.destroy();
    await edge.stop();
    await new Promise((resolve) => noop.close(resolve));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { records: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '4' } },
  });
  const records = Number(values.records);
  const concurrency = Number(values.concurrency);
  const kinesis = await startKinesisEmulator();
  const edge = await startEdgeProxy({
    port: 0,
    upstreams: { kinesis: kinesis.endpoint, dynamodb: kinesis.endpoint, s3: kinesis.endpoint },
  });
  try {
    const rows: Array<[string, KinesisRates]> = [];
    // Alternate to spread any warm-up or machine-load effect over both paths.
    for (let round = 0; round < 3; round++) {
      rows.push([
        'direct',
        await measureKinesisRates(kinesis.endpoint, `bench-direct-${round}`, records, concurrency),
      ]);
      rows.push([
        'edge',
        await measureKinesisRates(edge.endpoint, `bench-edge-${round}`, records, concurrency),
      ]);
    }
    process.stdout.write(
      `${records} records of ${RECORD_BYTES} B, PutRecords batches of ${BATCH}, ${concurrency} in flight, 4 shards\n`,
    );
    process.stdout.write(
      '| path | PutRecords records/s | PutRecords req/s | GetRecords records/s | GetRecords req/s | 1-record PutRecords p50 ms |\n|---|---|---|---|---|---|\n',
    );
    for (const [path, r] of rows) {
      process.stdout.write(
        `| ${path} | ${Math.round(r.putRecordsPerSecond)} | ${r.putRequestsPerSecond.toFixed(1)} | ${Math.round(r.getRecordsPerSecond)} | ${r.getRequestsPerSecond.toFixed(1)} | ${r.smallPutMedianMs.toFixed(1)} |\n`,
      );
    }
    const noop = await measureNoopRoundTrip(2000);
    process.stdout.write(
      `\nno-op upstream, 2000 sequential keep-alive POSTs: p50 ${noop.directMs.toFixed(3)} ms direct, ${noop.edgeMs.toFixed(3)} ms via edge\n`,
    );
  } finally {
    await edge.stop();
    await kinesis.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
