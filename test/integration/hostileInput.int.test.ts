/**
 * The hostile input corpus through the real handlers on the embedded local cloud: every kind Kinesis can
 * carry is put on a stream between valid records and delivered by the ESM runtime (BatchSize 10, partial
 * batch responses) to the operator handler bundled like the stack bundles it (`page-activity`), or to a
 * bundle of the same wiring over the `hostile-operators` pipeline (user functions that throw or return
 * garbage). Kinds no Kinesis stream can carry (bad base64, > 1 MiB, empty) go to the same operator bundle in
 * a hand-made Lambda event. Each kind lands in `rejected/` with its exact reason (or is counted once), the
 * valid records around it are all in the Parquet results, no invocation fails, and every shard's
 * checkpoint reaches its last sequence number.
 */
import { shippedPipelineModules } from '../../functions/pipelines/modules';
import { pipelineEntries } from '../../lib/constructs/pipelineEntries';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { CreateStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createClients } from '../../functions/adapters/aws';
import { ENV } from '../../functions/core/constants';
import type { Rejection } from '../../functions/core/types';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/emulators';
import {
  EventSourceMappingRuntime,
  MemoryCheckpointStore,
  SdkKinesisReader,
  WorkerInvoker,
  type FunctionDefinition,
  type InvocationOutcome,
} from '../../localstack/eventSourceMapping';
import { createBucket, createStateTable } from '../bench/benchCloud';
import { bundleLikeTheStack } from '../bench/bundle';
import { mirrorPrefix } from '../faults/localResources';
import {
  expectedCounts,
  hostileCorpus,
  interleave,
  validEvent,
  type CorpusTimes,
  type HostileTarget,
  type StreamEntry,
} from '../helpers/hostileCorpus';
import { useLocalCloud } from '../helpers/localCloud';
import { kinesisSequence } from '../helpers/records';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import { hostileOperators } from '../helpers/hostileCorpus';
import { waitStreamActive } from '../helpers/streamRoundTrip';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

const cloud = useLocalCloud();

const ROOT = join(__dirname, '../..');
const NOW = Date.now();
/** A minute boundary 10 minutes ago: every valid record falls in the window starting here. */
const TIMES: CorpusTimes = { base: Math.floor((NOW - 10 * 60_000) / 60_000) * 60_000, now: NOW };
const ACCOUNT = '000000000000';

/** The `hostile-operators` handler: the operator handler's wiring over the test pipeline, plus a pollution check. */
const HOSTILE_HANDLER_SOURCE = `
import { DynamoDBStateStore } from '${ROOT}/functions/adapters/DynamoDBStateStore';
import { decodeKinesisEvent } from '${ROOT}/functions/adapters/kinesisEventCodec';
import { ParquetResultEncoder } from '${ROOT}/functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '${ROOT}/functions/adapters/S3ObjectStore';
import { BatchProcessor } from '${ROOT}/functions/core/state/BatchProcessor';
import { processKinesisBatch } from '${ROOT}/functions/core/state/batchResponse';
import { hostileOperators, prototypePolluted } from '${ROOT}/test/helpers/hostileCorpus';
const processor = new BatchProcessor({
  pipeline: hostileOperators as never,
  store: new DynamoDBStateStore({ tableName: process.env.${ENV.STATE_TABLE} as string }),
  objects: new S3ObjectStore({ bucket: process.env.${ENV.RESULTS_BUCKET} as string }),
  encoder: new ParquetResultEncoder(),
  clock: { now: () => Date.now() },
});
export const handler = async (event: unknown) => {
  const { response } = await processKinesisBatch(processor, decodeKinesisEvent(event));
  if (prototypePolluted()) throw new Error('a prototype was polluted by hostile input');
  return response;
};
`;

interface Flow {
  readonly target: HostileTarget;
  readonly stream: string;
  readonly table: string;
  readonly bucket: string;
  readonly entries: StreamEntry[];
  /** Sequence number assigned to each entry by PutRecords (or chosen, for hand-made events). */
  readonly sequences: string[];
  /** Last sequence number put on each shard. */
  readonly lastByShard: Map<string, string>;
}

/** Hash keys at the start of each half of the key space: shard 0 and shard 1 of a two-shard stream. */
const SHARD_HASH_KEYS = ['0', String(2n ** 127n)] as const;

/**
 * Valid records far enough ahead that the watermark passes the corpus window's close, one per shard of the
 * pipeline (page-activity declares two shards and its watermark waits for both): the window gets emitted.
 */
function closers(shards: number): StreamEntry[] {
  const value = validEvent(9_999, { ...TIMES, base: TIMES.base + 5 * 60_000 });
  return Array.from({ length: shards }, (_, shard) => ({
    data: Buffer.from(
      JSON.stringify({ ...value, eventId: `00000000-0000-4000-8000-00000000c10${shard}`, page: '/closer' }),
    ).toString('base64'),
    partitionKey: 'closer',
    explicitHashKey: SHARD_HASH_KEYS[shard] as string,
  }));
}

/** Puts the entries in order (one request at a time), the corpus on shard 0; returns each one's sequence number. */
async function putInOrder(flow: Flow): Promise<string[]> {
  const { stream, entries } = flow;
  const { kinesis } = createClients();
  const sequences: string[] = [];
  let chunk: StreamEntry[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: chunk.map((e) => ({
          PartitionKey: e.partitionKey,
          ExplicitHashKey: e.explicitHashKey ?? SHARD_HASH_KEYS[0],
          Data: Buffer.from(e.data, 'base64'),
        })),
      }),
    );
    const failed = (out.Records ?? []).filter((r) => r.ErrorCode !== undefined);
    if (failed.length > 0 || out.Records?.length !== chunk.length)
      throw new Error(`PutRecords failed: ${JSON.stringify(failed[0])}`);
    sequences.push(...out.Records.map((r) => r.SequenceNumber as string));
    for (const r of out.Records) flow.lastByShard.set(r.ShardId as string, r.SequenceNumber as string);
    chunk = [];
    bytes = 0;
  };
  for (const entry of entries) {
    const size = (entry.data.length * 3) / 4;
    // One request at a time keeps the stream order equal to the entry order (one shard).
    if (bytes + size > 3 * 1024 * 1024 || chunk.length === 100) await flush();
    chunk.push(entry);
    bytes += size;
  }
  await flush();
  return sequences;
}

/** The flow's tick, as its schedule runs it: closes the windows every shard's close mark has not reached yet. */
async function tick(flow: Flow): Promise<void> {
  const pipeline = (flow.target === 'page-activity'
    ? pageActivity
    : hostileOperators) as unknown as StatefulPipeline;
  const processor = new BatchProcessor({
    pipeline,
    store: new DynamoDBStateStore({ tableName: flow.table }),
    objects: new S3ObjectStore({ bucket: flow.bucket }),
    encoder: new ParquetResultEncoder(),
    clock: { now: () => Date.now() },
  });
  await processor.tick();
}

async function rejections(bucket: string): Promise<Map<string, Rejection>> {
  const { s3 } = createClients();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'rejected/' }));
  const out = new Map<string, Rejection>();
  for (const object of listed.Contents ?? []) {
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))
    ).Body?.transformToString();
    for (const line of (body ?? '').split('\n').filter((l) => l.length > 0)) {
      const rejection = JSON.parse(line) as Rejection;
      out.set(rejection.sequenceNumber, rejection);
    }
  }
  return out;
}

async function resultCounts(bucket: string, table: string, dir: string): Promise<Record<string, number>> {
  await mirrorPrefix(createClients().s3, bucket, 'results/', dir);
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const rows = (
      await connection.runAndReadAll(
        `SELECT page, sum(events) FROM read_parquet('${dir}/results/${table}/**/*.parquet', hive_partitioning = true) WHERE epoch_ms(window_start) = ${TIMES.base} GROUP BY page ORDER BY page`,
      )
    ).getRows();
    return Object.fromEntries(rows.map(([page, events]) => [String(page), Number(events)]));
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

function expectedRejections(flow: Flow): [string, string, string][] {
  return flow.entries.flatMap((e, i) =>
    e.kind !== undefined && 'rejected' in e.kind.outcome
      ? [[flow.sequences[i] as string, e.kind.name, e.kind.outcome.rejected] as [string, string, string]]
      : [],
  );
}

describe('hostile input through the real handlers on the local cloud', () => {
  let dir: string;
  let invoker: WorkerInvoker;
  let runtime: EventSourceMappingRuntime | undefined;
  const outcomes: InvocationOutcome[] = [];
  const functions: Record<string, FunctionDefinition> = {};
  const corpus = hostileCorpus(TIMES, validEvent(0, TIMES));
  const flows: Flow[] = [];

  const fnDef = (name: string, entryFile: string, table: string, bucket: string): FunctionDefinition => ({
    functionName: name,
    functionArn: `arn:aws:lambda:${LOCAL_REGION}:${ACCOUNT}:function:${name}`,
    entryFile,
    exportName: 'handler',
    timeoutSeconds: 60,
    memorySize: 512,
    environment: { [ENV.PIPELINE]: 'page-activity', [ENV.STATE_TABLE]: table, [ENV.RESULTS_BUCKET]: bucket },
    roleArn: `arn:aws:iam::${ACCOUNT}:role/hostile`,
    region: LOCAL_REGION,
  });

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.shardflow'), { recursive: true });
    // Inside the project, so the bundles resolve the external AWS SDK from node_modules as on Lambda.
    dir = mkdtempSync(join(ROOT, '.shardflow', 'hostile-int-'));
    writeFileSync(join(dir, 'hostileHandler.ts'), HOSTILE_HANDLER_SOURCE);
    const [operatorBundle, hostileBundle] = [
      join(dir, 'operator', 'index.js'),
      join(dir, 'hostile', 'index.js'),
    ];
    await bundleLikeTheStack(
      pipelineEntries(shippedPipelineModules[0]!, { projectRoot: ROOT }).operatorEntry,
      operatorBundle,
    );
    await bundleLikeTheStack(join(dir, 'hostileHandler.ts'), hostileBundle);

    const clients = createClients();
    for (const [name, target, bundle] of [
      ['pa', 'page-activity', operatorBundle],
      ['op', 'hostile-operators', hostileBundle],
      ['ev', 'page-activity', operatorBundle],
    ] as const) {
      const table = `hostile-${name}-state`;
      const bucket = `hostile-${name}-results`;
      await createStateTable(clients.dynamoDb, table);
      await createBucket(clients.s3, bucket);
      functions[name] = fnDef(`hostile-${name}`, bundle, table, bucket);
      const kinds = corpus.filter(
        (k) => k.target === target && k.channel === (name === 'ev' ? 'event' : 'kinesis'),
      );
      const shards = target === 'page-activity' ? 2 : 1;
      flows.push({
        target,
        stream: `hostile-${name}`,
        table,
        bucket,
        entries: [...interleave(kinds, TIMES, 0), ...closers(shards)],
        sequences: [],
        lastByShard: new Map(),
      });
    }
    // As many shards as each pipeline declares (its watermark waits for that many).
    for (const flow of flows.slice(0, 2))
      await clients.kinesis.send(
        new CreateStreamCommand({
          StreamName: flow.stream,
          ShardCount: flow.target === 'page-activity' ? 2 : 1,
        }),
      );
    for (const flow of flows.slice(0, 2)) {
      await waitStreamActive(clients.kinesis, flow.stream);
    }
    invoker = new WorkerInvoker({
      inheritOutput: false,
      environment: {
        AWS_ENDPOINT_URL: cloud().endpoint,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await runtime?.stop();
    await invoker?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('when every Kinesis-borne kind is put between valid records, each is dead-lettered with its exact reason or counted once, every valid record is in the results, no invocation fails and every shard is checkpointed at its last record', async () => {
    const streamed = flows.slice(0, 2);
    for (const flow of streamed) flow.sequences.push(...(await putInOrder(flow)));
    runtime = new EventSourceMappingRuntime({
      mappings: streamed.map((flow, i) => ({
        uuid: `hostile-${i}`,
        functionName: (i === 0 ? functions.pa : functions.op)!.functionName,
        eventSourceArn: `arn:aws:kinesis:${LOCAL_REGION}:${ACCOUNT}:stream/${flow.stream}`,
        startingPosition: 'TRIM_HORIZON',
        batchSize: 10,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 2,
        functionResponseTypes: ['ReportBatchItemFailures'],
      })),
      functions: [functions.pa!, functions.op!],
      kinesis: new SdkKinesisReader(createClients().kinesis),
      invoker,
      checkpoints: new MemoryCheckpointStore(),
      hooks: { onInvoke: (_info, outcome) => void outcomes.push(outcome) },
      pollIntervalMs: 50,
      retryBackoffMs: 10,
      log: () => undefined,
    });
    await runtime.start();
    await runtime.idle(90_000);

    // Never stalled: every invocation succeeded without item failures, and each shard is done to its end.
    expect(
      outcomes.filter(
        (o) =>
          !o.ok ||
          ((o.payload as { batchItemFailures?: unknown[] } | null)?.batchItemFailures ?? []).length > 0,
      ),
    ).toEqual([]);
    const lag = runtime.lag().map((l) => [l.mappingUuid, l.shardId, l.pendingRecords, l.checkpoint]);
    const ends = streamed.flatMap((flow, i) =>
      [...flow.lastByShard].map(([shardId, last]) => [`hostile-${i}`, shardId, 0, last]),
    );
    expect(ends).toHaveLength(3);
    expect(lag.sort()).toEqual(ends.sort());

    for (const flow of streamed) {
      await tick(flow);
      const rejected = await rejections(flow.bucket);
      const expected = expectedRejections(flow);
      expect(expected.map(([seq, name]) => [name, rejected.get(seq)?.reason])).toEqual(
        expected.map(([, name, reason]) => [name, reason]),
      );
      expect(rejected.size).toBe(expected.length);
      const table = flow.target === 'page-activity' ? 'page_activity_minutely' : 'hostile_operators_minutely';
      expect(await resultCounts(flow.bucket, table, join(dir, flow.stream))).toEqual(
        expectedCounts(flow.entries),
      );
    }
  }, 150_000);

  it('when kinds no stream can carry (bad base64, empty, over 1 MiB) arrive in a Lambda event, the operator bundle dead-letters each with its exact reason and keeps every valid record', async () => {
    const flow = flows[2]!;
    flow.sequences.push(...flow.entries.map((_, i) => kinesisSequence(i + 1)));
    // The corpus on shard 0; the last closer on shard 1 (page-activity's watermark waits for two shards).
    const shardOf = (i: number): string => `shardId-00000000000${i === flow.entries.length - 1 ? 1 : 0}`;
    const records = flow.entries.map((e, i) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: e.partitionKey,
        sequenceNumber: flow.sequences[i] as string,
        data: e.data,
        approximateArrivalTimestamp: NOW / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardOf(i)}:${flow.sequences[i]}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::${ACCOUNT}:role/hostile`,
      awsRegion: LOCAL_REGION,
      eventSourceARN: `arn:aws:kinesis:${LOCAL_REGION}:${ACCOUNT}:stream/hostile-ev`,
    }));
    // The closers in their own, later invocations, as the next batch of each shard.
    const batches: KinesisStreamEvent[] = [
      { Records: records.slice(0, -2) },
      { Records: records.slice(-2, -1) },
      { Records: records.slice(-1) },
    ];
    for (const [i, event] of batches.entries()) {
      await expect(invoker.invokeEvent(functions.ev!, event, `hostile-event-${i}`)).resolves.toEqual({
        ok: true,
        payload: { batchItemFailures: [] },
      });
    }
    await tick(flow);
    const rejected = await rejections(flow.bucket);
    const expected = expectedRejections(flow);
    expect(expected.length).toBeGreaterThanOrEqual(5);
    expect(expected.map(([seq, name]) => [name, rejected.get(seq)?.reason])).toEqual(
      expected.map(([, name, reason]) => [name, reason]),
    );
    expect(rejected.size).toBe(expected.length);
    expect(await resultCounts(flow.bucket, 'page_activity_minutely', join(dir, 'event'))).toEqual(
      expectedCounts(flow.entries),
    );
  }, 60_000);
});
