/**
 * Bench part `state`: what keyed state costs, as a matrix of keys {50, 1,000, 10,000} × shards {1, 4} on the
 * same stream (1,000-record batches, Zipf-skewed keys, 20 s of event time per batch), per approach, all on
 * the same DynamoDB Local (and s3rver):
 *
 * - shardflow: the real `BatchProcessor` + `DynamoDBStateStore`, one warm instance per shard applying its
 *   shard's batches concurrently with the others, then the end of input (every window closed and counted).
 *   Write and read units from the real item sizes (the store's accounting: ⌈bytes / 1 KB⌉ per item written,
 *   twice inside a transaction; ⌈bytes / 4 KB⌉ per strongly consistent read).
 * - naive: one `UpdateItem ADD` per record (not exactly-once); Powertools-idempotent: the same under
 *   Powertools idempotency. Their cost per record does not depend on keys or shards, so they run the first
 *   two batches of each key count; units as DynamoDB Local reports them (at least one per request).
 *
 * Also the write units dedupe costs (page-activity with and without `dedupeBy`, one shard).
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { decodeKinesisEvent } from '../../functions/adapters/kinesisEventCodec';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { pageActivity, pageActivityPipeline } from '../../functions/pipelines/pageActivity';
import { idempotentHandler } from './baselines/idempotentHandler';
import { naiveHandler } from './baselines/naiveHandler';
import {
  createBucket,
  createKeyTable,
  createStateTable,
  startBenchCloud,
  type BenchCloud,
} from './benchCloud';
import { costPerMillionEvents, type Usage } from './pricing';
import { countDynamoDbRequests, type RequestCounts } from './requestCounter';
import { clickstreamBatches, DEFAULT_WORKLOAD } from './workload';

/** Memory of the stack's operator function (PipelineFunction default), used for every approach's GB-s. */
const LAMBDA_MEMORY_GB = 0.5;
/** A provisioned shard ingests at most 1,000 records/s: the shard hours a stream of `events` needs at least. */
const RECORDS_PER_SHARD_SECOND = 1_000;

export const MATRIX_KEYS = [50, 1_000, 10_000] as const;
export const MATRIX_SHARDS = [1, 4] as const;

/** Settings of the state bench. */
export interface StateBenchOptions {
  /** Batches of 1,000 records shardflow processes per cell (spread over the cell's shards). @default 20 */
  readonly batches?: number;
  /** Batches the per-record baselines process per key count. @default 2 */
  readonly baselineBatches?: number;
  readonly keys?: readonly number[];
  readonly shards?: readonly number[];
  readonly log?: (line: string) => void;
}

/** One approach's measured usage. */
interface Measured {
  readonly records: number;
  readonly requests: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly s3Requests: number;
  readonly elapsedMs: number;
  readonly invocations: number;
}

/** One cell of `state.matrix`. */
export interface StateCell {
  readonly keys: number;
  readonly shards: number;
  readonly records: number;
  readonly requestsPer1000: number;
  readonly writeUnitsPer1000: number;
  readonly readUnitsPer1000: number;
  readonly s3RequestsPer1000: number;
  readonly naiveRequestsPer1000: number;
  readonly naiveWriteUnitsPer1000: number;
  readonly idempotentRequestsPer1000: number;
  readonly idempotentWriteUnitsPer1000: number;
  /** Commits that lost to another writer / commits. */
  readonly conflictRate: number;
  /** Result objects written / windows emitted. */
  readonly resultObjectsPerWindow: number;
  readonly costPerMillionUsd: {
    readonly shardflow: number;
    readonly naive: number;
    readonly idempotent: number;
  };
}

/** The figures written under `state` in results.json. */
export interface StateFigures {
  readonly matrix: readonly StateCell[];
  /** Naive write units / shardflow write units, lowest over the cells with 50 keys (goal ≥ 30). */
  readonly writeUnitsVsNaive50Keys: number;
  /** The same at 10,000 keys (goal ≥ 5). */
  readonly writeUnitsVsNaive10000Keys: number;
  /** Highest shardflow DynamoDB requests per 1,000 records over the cells (goal ≤ 10). */
  readonly maxRequestsPer1000: number;
  /** Highest conflict rate over the 4-shard cells (goal 0). */
  readonly maxConflictRate4Shards: number;
  /** Highest result objects per window over the cells (goal ≤ 1). */
  readonly maxResultObjectsPerWindow: number;
  /** Naive cost / shardflow cost, lowest over the cells (goal ≥ 5). */
  readonly costVsNaive: number;
  /** Write units per 1,000 records the dedupe ids cost (page-activity with and without `dedupeBy`), by key count. */
  readonly dedupeWriteUnitsPer1000: Readonly<Record<string, number>>;
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));
const per1000 = (value: number, records: number): number => round((value / records) * 1000);

function usageOf(m: Measured): Usage {
  return {
    events: m.records,
    lambdaInvocations: m.invocations,
    lambdaGbSeconds: (m.elapsedMs / 1000) * LAMBDA_MEMORY_GB,
    dynamoDbWriteUnits: m.writeUnits,
    dynamoDbReadUnits: m.readUnits,
    s3Puts: m.s3Requests,
    kinesisPutPayloadUnits: m.records,
    kinesisShardHours: m.records / RECORDS_PER_SHARD_SECOND / 3600,
  };
}

function readRequests(counts: RequestCounts): number {
  const reads = ['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand'];
  return reads.reduce((sum, name) => sum + (counts.byCommand[name] ?? 0), 0);
}

let tables = 0;

/** The cell's stream through one warm instance per shard, shards concurrently, then the end of input. */
async function measureShardflow(
  bench: BenchCloud,
  pipeline: StatefulPipeline,
  events: readonly KinesisStreamEvent[],
  shards: number,
): Promise<Measured & { conflicts: number; commits: number; resultObjects: number; windows: number }> {
  const table = `bench-state-${(tables += 1)}`;
  const bucket = `bench-results-${tables}`;
  await createStateTable(bench.clients().dynamoDb, table);
  await createBucket(bench.clients().s3, bucket);
  const instances = Array.from({ length: shards }, () => {
    const clients = bench.clients();
    const store = new DynamoDBStateStore({ tableName: table, client: clients.dynamoDb });
    const objects = new S3ObjectStore({ bucket, client: clients.s3 });
    let results = 0;
    const put = objects.putObject.bind(objects);
    objects.putObject = async (key, body, type) => {
      if (key.startsWith('results/')) results += 1;
      await put(key, body, type);
    };
    const processor = new BatchProcessor({
      pipeline,
      store,
      objects,
      encoder: new ParquetResultEncoder(),
      clock: { now: () => Date.now() },
    });
    return { store, objects, processor, results: () => results };
  });
  const started = performance.now();
  let records = 0;
  let windows = 0;
  let commits = 0;
  for (let round = 0; round * shards < events.length; round++) {
    const outcomes = await Promise.all(
      instances.map(async (instance, shard) => {
        const batch = events[round * shards + shard];
        if (batch === undefined) return undefined;
        const result = await instance.processor.apply(decodeKinesisEvent(batch));
        // A bench that silently rejected its input would measure nothing: every record must be applied.
        if (result.rejected > 0 || result.late > 0 || result.duplicates > 0)
          throw new Error(
            `state bench: a batch had ${result.rejected} rejected, ${result.late} late, ${result.duplicates} duplicate records`,
          );
        return result;
      }),
    );
    for (const result of outcomes) {
      if (result === undefined) continue;
      records += result.recordsIn;
      windows += result.windowsEmitted;
      commits += 1 + result.conflicts;
    }
  }
  // End of input: the windows still open are emitted too, so every result row's cost is counted.
  windows += (await instances[0]!.processor.tick(Number.POSITIVE_INFINITY)).windowsEmitted;
  const sum = (f: (i: (typeof instances)[number]) => number): number =>
    instances.reduce((n, i) => n + f(i), 0);
  return {
    records,
    requests: sum((i) => i.store.stats.requests),
    writeUnits: sum((i) => i.store.stats.writeUnits),
    readUnits: sum((i) => i.store.stats.readUnits),
    s3Requests: sum((i) => i.objects.requests),
    elapsedMs: performance.now() - started,
    invocations: events.length + 1,
    conflicts: sum((i) => i.store.stats.conflicts),
    commits,
    resultObjects: sum((i) => i.results()),
    windows,
  };
}

async function measureBaseline(
  bench: BenchCloud,
  events: readonly KinesisStreamEvent[],
  kind: 'naive' | 'idempotent',
): Promise<Measured> {
  const clients = bench.clients();
  tables += 1;
  await createKeyTable(clients.dynamoDb, `bench-${kind}-${tables}`, ['pk', 'sk']);
  if (kind === 'idempotent') await createKeyTable(clients.dynamoDb, `bench-idem-keys-${tables}`, ['id']);
  const counts = countDynamoDbRequests(clients.dynamoDb);
  const handler =
    kind === 'naive'
      ? naiveHandler(clients.dynamoDb, `bench-${kind}-${tables}`)
      : idempotentHandler(clients.dynamoDb, `bench-${kind}-${tables}`, `bench-idem-keys-${tables}`);
  const started = performance.now();
  for (const batch of events) await handler(batch);
  const records = events.reduce((n, b) => n + b.Records.length, 0);
  return {
    records,
    requests: counts.total,
    // On-demand billing: at least one unit per request; the emulator's consumed capacity when it is larger.
    writeUnits: Math.max(counts.writeUnits, counts.total - readRequests(counts)),
    readUnits: Math.max(counts.readUnits, readRequests(counts)),
    s3Requests: 0,
    elapsedMs: performance.now() - started,
    invocations: events.length,
  };
}

/** Runs the state bench on its own local cloud (started and stopped here). */
export async function runStateBench(options: StateBenchOptions = {}): Promise<StateFigures> {
  const log = options.log ?? ((line: string) => console.log(line));
  const batches = options.batches ?? DEFAULT_WORKLOAD.batches;
  const bench = await startBenchCloud();
  try {
    const matrix: StateCell[] = [];
    const dedupe: Record<string, number> = {};
    for (const keys of options.keys ?? MATRIX_KEYS) {
      const baselineEvents = clickstreamBatches({
        ...DEFAULT_WORKLOAD,
        keys,
        batches: options.baselineBatches ?? 2,
      });
      log(`state: naive and idempotent baselines over ${baselineEvents.length} batches (${keys} keys)…`);
      const naive = await measureBaseline(bench, baselineEvents, 'naive');
      const idempotent = await measureBaseline(bench, baselineEvents, 'idempotent');
      for (const shards of options.shards ?? MATRIX_SHARDS) {
        const events = clickstreamBatches({ ...DEFAULT_WORKLOAD, keys, shards, batches });
        log(`state: shardflow, ${keys} keys × ${shards} shard(s), ${events.length} batches…`);
        const m = await measureShardflow(bench, pageActivity as unknown as StatefulPipeline, events, shards);
        if (shards === 1) {
          const lean = await measureShardflow(
            bench,
            pageActivityPipeline('page-activity', { dedupe: false }) as unknown as StatefulPipeline,
            events,
            shards,
          );
          dedupe[String(keys)] = per1000(m.writeUnits - lean.writeUnits, m.records);
        }
        matrix.push({
          keys,
          shards,
          records: m.records,
          requestsPer1000: per1000(m.requests, m.records),
          writeUnitsPer1000: per1000(m.writeUnits, m.records),
          readUnitsPer1000: per1000(m.readUnits, m.records),
          s3RequestsPer1000: per1000(m.s3Requests, m.records),
          naiveRequestsPer1000: per1000(naive.requests, naive.records),
          naiveWriteUnitsPer1000: per1000(naive.writeUnits, naive.records),
          idempotentRequestsPer1000: per1000(idempotent.requests, idempotent.records),
          idempotentWriteUnitsPer1000: per1000(idempotent.writeUnits, idempotent.records),
          conflictRate: round(m.conflicts / Math.max(1, m.commits), 4),
          resultObjectsPerWindow: round(m.resultObjects / Math.max(1, m.windows), 3),
          costPerMillionUsd: {
            shardflow: round(costPerMillionEvents(usageOf(m)), 4),
            naive: round(costPerMillionEvents(usageOf(naive)), 4),
            idempotent: round(costPerMillionEvents(usageOf(idempotent)), 4),
          },
        });
        const cell = matrix[matrix.length - 1]!;
        log(
          `state: ${keys}×${shards}: ${cell.requestsPer1000} req, ${cell.writeUnitsPer1000} WU (naive ${cell.naiveWriteUnitsPer1000}), ${cell.readUnitsPer1000} RU, ${cell.s3RequestsPer1000} S3 per 1,000; conflicts ${cell.conflictRate}; ${cell.resultObjectsPerWindow} objects/window; $${cell.costPerMillionUsd.shardflow} vs $${cell.costPerMillionUsd.naive} per 1M`,
        );
      }
    }
    const ratio = (keys: number): number =>
      Math.min(
        ...matrix.filter((c) => c.keys === keys).map((c) => c.naiveWriteUnitsPer1000 / c.writeUnitsPer1000),
      );
    return {
      matrix,
      writeUnitsVsNaive50Keys: round(ratio(50)),
      writeUnitsVsNaive10000Keys: round(ratio(10_000)),
      maxRequestsPer1000: Math.max(...matrix.map((c) => c.requestsPer1000)),
      maxConflictRate4Shards: Math.max(0, ...matrix.filter((c) => c.shards === 4).map((c) => c.conflictRate)),
      maxResultObjectsPerWindow: Math.max(...matrix.map((c) => c.resultObjectsPerWindow)),
      costVsNaive: round(
        Math.min(...matrix.map((c) => c.costPerMillionUsd.naive / c.costPerMillionUsd.shardflow)),
      ),
      dedupeWriteUnitsPer1000: dedupe,
    };
  } finally {
    await bench.stop();
  }
}
