/**
 * Bench part `state`: DynamoDB requests per 1,000 records and modeled cost per million events for shardflow
 * (the real BatchProcessor + DynamoDBStateStore, one warm instance) against two baselines, on the same
 * emulators and the same stream (1,000-record batches, 50 Zipf-skewed keys). Also the conditional-check
 * conflict rate when four shards' batch processors write the same keys concurrently.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { decodeKinesisEvent } from '../../functions/adapters/kinesisEventCodec';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor, type BatchResult } from '../../functions/core/state/BatchProcessor';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import { idempotentHandler } from './baselines/idempotentHandler';
import { naiveHandler } from './baselines/naiveHandler';
import { createBucket, createKeyTable, createStateTable, startBenchCloud, type BenchCloud } from './benchCloud';
import { costPerMillionEvents, type Usage } from './pricing';
import { countDynamoDbRequests, type RequestCounts } from './requestCounter';
import { clickstreamBatches, DEFAULT_WORKLOAD, type WorkloadOptions } from './workload';

/** Memory of the stack's operator function (PipelineFunction default), used for every approach's GB-s. */
const LAMBDA_MEMORY_GB = 0.5;
/** A provisioned shard ingests at most 1,000 records/s: the shard hours a stream of `events` needs at least. */
const RECORDS_PER_SHARD_SECOND = 1_000;

/** Settings of the state bench. */
export interface StateBenchOptions {
  /** Batches of 1,000 records shardflow processes (one warm instance). @default 20 */
  readonly batches?: number;
  /**
   * Batches the per-record baselines process: the first ones of the same stream. Their requests per record
   * are constant (1 and 3), so fewer batches keep the part under two minutes without changing the rate.
   * @default 4
   */
  readonly baselineBatches?: number;
  /** Rounds of the four-shard contention run (4 batches of 1,000 records each). @default 3 */
  readonly contentionRounds?: number;
  readonly log?: (line: string) => void;
}

/** One approach's measured usage. */
interface Measured {
  readonly records: number;
  readonly counts: RequestCounts;
  readonly s3Requests: number;
  readonly elapsedMs: number;
  readonly batches: number;
  /** shardflow only: window item writes by apply, and windows emitted (two conditional writes + one PUT each). */
  readonly windowsWritten?: number;
  readonly windowsEmitted?: number;
}

/** The figures written under `state` in results.json. */
export interface StateFigures {
  readonly requestsPer1000: number;
  readonly naiveRequestsPer1000: number;
  readonly idempotentRequestsPer1000: number;
  readonly costPerMillionUsd: { readonly shardflow: number; readonly naive: number; readonly idempotent: number };
  readonly ratio: number;
  readonly idempotentRatio: number;
  readonly writeUnitsPer1000: number;
  readonly naiveWriteUnitsPer1000: number;
  readonly idempotentWriteUnitsPer1000: number;
  readonly records: number;
  readonly baselineRecords: number;
  /** Of shardflow's requests: window items written by apply, and windows emitted, per 1,000 records. */
  readonly windowWritesPer1000: number;
  readonly windowsEmittedPer1000: number;
  readonly contentionShards: number;
  readonly contentionRequestsPer1000: number;
  readonly conflictRate4Shards: number;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

function usageOf(m: Measured): Usage {
  return {
    events: m.records,
    lambdaInvocations: m.batches,
    lambdaGbSeconds: (m.elapsedMs / 1000) * LAMBDA_MEMORY_GB,
    // On-demand billing: at least one unit per request; the emulator's consumed capacity when it is larger.
    dynamoDbWriteUnits: Math.max(m.counts.writeUnits, m.counts.total - readRequests(m.counts)),
    dynamoDbReadUnits: Math.max(m.counts.readUnits, readRequests(m.counts)),
    s3Puts: m.s3Requests,
    kinesisPutPayloadUnits: m.records,
    kinesisShardHours: m.records / RECORDS_PER_SHARD_SECOND / 3600,
  };
}

function readRequests(counts: RequestCounts): number {
  const reads = ['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand'];
  return reads.reduce((sum, name) => sum + (counts.byCommand[name] ?? 0), 0);
}

const per1000 = (value: number, records: number): number => round((value / records) * 1000);

function shardflowProcessor(bench: BenchCloud, tableName: string, bucket: string): { processor: BatchProcessor; counts: RequestCounts; store: DynamoDBStateStore; objects: S3ObjectStore } {
  const clients = bench.clients();
  const counts = countDynamoDbRequests(clients.dynamoDb);
  const store = new DynamoDBStateStore({ tableName, client: clients.dynamoDb });
  const objects = new S3ObjectStore({ bucket, client: clients.s3 });
  const processor = new BatchProcessor({
    pipeline: pageActivity as unknown as StatefulPipeline,
    store,
    objects,
    encoder: new ParquetResultEncoder(),
    clock: { now: () => Date.now() },
  });
  return { processor, counts, store, objects };
}

function assertAllApplied(result: BatchResult, batch: KinesisStreamEvent): void {
  // A bench that silently rejected its input would measure nothing: every record must be applied.
  if (result.rejected > 0 || result.late > 0 || result.duplicates > 0) {
    throw new Error(`state bench: a batch of ${batch.Records.length} had ${result.rejected} rejected, ${result.late} late, ${result.duplicates} duplicate records`);
  }
}

async function measureShardflow(bench: BenchCloud, events: readonly KinesisStreamEvent[]): Promise<Measured> {
  await createStateTable(bench.clients().dynamoDb, 'bench-state');
  await createBucket(bench.clients().s3, 'bench-results');
  const { processor, counts, objects } = shardflowProcessor(bench, 'bench-state', 'bench-results');
  const started = performance.now();
  let records = 0;
  let windowsWritten = 0;
  let windowsEmitted = 0;
  for (const batch of events) {
    const result = await processor.apply(decodeKinesisEvent(batch));
    assertAllApplied(result, batch);
    records += batch.Records.length;
    windowsWritten += result.windowsWritten;
    windowsEmitted += result.windowsEmitted;
  }
  // End of input: the windows still open are emitted too, so every result row's cost is counted (the
  // baselines' counters are their results already).
  for (let emitted = -1; emitted !== 0; ) {
    emitted = (await processor.tick(Number.POSITIVE_INFINITY)).windowsEmitted;
    windowsEmitted += emitted;
  }
  return { records, counts, s3Requests: objects.requests, elapsedMs: performance.now() - started, batches: events.length + 1, windowsWritten, windowsEmitted };
}

async function measureNaive(bench: BenchCloud, events: readonly KinesisStreamEvent[]): Promise<Measured> {
  const clients = bench.clients();
  await createKeyTable(clients.dynamoDb, 'bench-naive', ['pk', 'sk']);
  const counts = countDynamoDbRequests(clients.dynamoDb);
  const handler = naiveHandler(clients.dynamoDb, 'bench-naive');
  const started = performance.now();
  for (const batch of events) await handler(batch);
  const records = events.reduce((n, b) => n + b.Records.length, 0);
  return { records, counts, s3Requests: 0, elapsedMs: performance.now() - started, batches: events.length };
}

async function measureIdempotent(bench: BenchCloud, events: readonly KinesisStreamEvent[]): Promise<Measured> {
  const clients = bench.clients();
  await createKeyTable(clients.dynamoDb, 'bench-idem-counters', ['pk', 'sk']);
  await createKeyTable(clients.dynamoDb, 'bench-idem-keys', ['id']);
  const counts = countDynamoDbRequests(clients.dynamoDb);
  const handler = idempotentHandler(clients.dynamoDb, 'bench-idem-counters', 'bench-idem-keys');
  const started = performance.now();
  for (const batch of events) await handler(batch);
  const records = events.reduce((n, b) => n + b.Records.length, 0);
  return { records, counts, s3Requests: 0, elapsedMs: performance.now() - started, batches: events.length };
}

/** Four shards, four warm instances writing the same keys and windows at the same time. */
async function measureContention(bench: BenchCloud, rounds: number): Promise<{ requestsPer1000: number; conflictRate: number }> {
  const shards = 4;
  await createStateTable(bench.clients().dynamoDb, 'bench-state-4');
  await createBucket(bench.clients().s3, 'bench-results-4');
  const events = clickstreamBatches({ ...DEFAULT_WORKLOAD, shards, batches: shards * rounds, seed: 7 });
  const instances = Array.from({ length: shards }, () => shardflowProcessor(bench, 'bench-state-4', 'bench-results-4'));
  for (let r = 0; r < rounds; r++) {
    await Promise.all(
      instances.map(async (instance, shard) => {
        const batch = events[r * shards + shard];
        if (batch === undefined) return;
        const result = await instance.processor.apply(decodeKinesisEvent(batch));
        if (result.rejected > 0 || result.duplicates > 0) throw new Error(`contention run: ${result.rejected} rejected, ${result.duplicates} duplicates`);
      }),
    );
  }
  const requests = instances.reduce((n, i) => n + i.counts.total, 0);
  const conflicts = instances.reduce((n, i) => n + i.store.stats.conflicts, 0);
  const conditionalWrites = instances.reduce((n, i) => n + (i.counts.byCommand.UpdateItemCommand ?? 0) + (i.counts.byCommand.PutItemCommand ?? 0) + (i.counts.byCommand.TransactWriteItemsCommand ?? 0), 0);
  return { requestsPer1000: per1000(requests, events.length * DEFAULT_WORKLOAD.batchSize), conflictRate: round(conflicts / Math.max(1, conditionalWrites), 4) };
}

/** Runs the state bench on its own local cloud (started and stopped here). */
export async function runStateBench(options: StateBenchOptions = {}): Promise<StateFigures> {
  const log = options.log ?? ((line: string) => console.log(line));
  const workload: WorkloadOptions = { ...DEFAULT_WORKLOAD, batches: options.batches ?? DEFAULT_WORKLOAD.batches };
  const events = clickstreamBatches(workload);
  const baselineEvents = events.slice(0, options.baselineBatches ?? 4);
  const bench = await startBenchCloud();
  try {
    log(`state: shardflow over ${events.length} batches of ${workload.batchSize} (${workload.keys} Zipf keys)…`);
    const shardflow = await measureShardflow(bench, events);
    log(`state: naive baseline over ${baselineEvents.length} batches…`);
    const naive = await measureNaive(bench, baselineEvents);
    log(`state: idempotent baseline over ${baselineEvents.length} batches…`);
    const idempotent = await measureIdempotent(bench, baselineEvents);
    log('state: four-shard contention…');
    const contention = await measureContention(bench, options.contentionRounds ?? 3);
    const requestsPer1000 = per1000(shardflow.counts.total, shardflow.records);
    const naiveRequestsPer1000 = per1000(naive.counts.total, naive.records);
    const idempotentRequestsPer1000 = per1000(idempotent.counts.total, idempotent.records);
    log(`state: shardflow requests by command ${JSON.stringify(shardflow.counts.byCommand)}, S3 requests ${shardflow.s3Requests}, ${Math.round(shardflow.elapsedMs)} ms`);
    return {
      requestsPer1000,
      naiveRequestsPer1000,
      idempotentRequestsPer1000,
      costPerMillionUsd: {
        shardflow: round(costPerMillionEvents(usageOf(shardflow)), 4),
        naive: round(costPerMillionEvents(usageOf(naive)), 4),
        idempotent: round(costPerMillionEvents(usageOf(idempotent)), 4),
      },
      ratio: round(naiveRequestsPer1000 / requestsPer1000),
      idempotentRatio: round(idempotentRequestsPer1000 / requestsPer1000),
      writeUnitsPer1000: per1000(usageOf(shardflow).dynamoDbWriteUnits, shardflow.records),
      naiveWriteUnitsPer1000: per1000(usageOf(naive).dynamoDbWriteUnits, naive.records),
      idempotentWriteUnitsPer1000: per1000(usageOf(idempotent).dynamoDbWriteUnits, idempotent.records),
      records: shardflow.records,
      windowWritesPer1000: per1000(shardflow.windowsWritten ?? 0, shardflow.records),
      windowsEmittedPer1000: per1000(shardflow.windowsEmitted ?? 0, shardflow.records),
      baselineRecords: naive.records,
      contentionShards: 4,
      contentionRequestsPer1000: contention.requestsPer1000,
      conflictRate4Shards: contention.conflictRate,
    };
  } finally {
    await bench.stop();
  }
}
