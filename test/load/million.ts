/**
 * `npm run test:load [-- --events <n>]`: pushes `n` clickstream events (default 1,000,000; one in 1,000 is
 * malformed on purpose) through the real app deployed on the local cloud (cdk synth → local deployer → ESM
 * runtime → bundled operator in warm workers) while the mapping runs, closes every window at the end of
 * input, and checks that nothing was lost: the `events` counts of the result rows + rejected + late records
 * equal the input. Samples the RSS of this process — which hosts the ESM runtime and its worker threads —
 * and reports the maximum (goal ≤ 512 MB). Figures are merged into `test/bench/results.json` under `load`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError } from 'commander';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import { deployStack, putAll } from '../bench/deployedStack';
import { renderResultsMarkdown, type Figures } from '../bench/resultsTable';
import { clickstreamBatches, DEFAULT_WORKLOAD } from '../bench/workload';
import { mirrorPrefix } from '../faults/localResources';

const RSS_GOAL_MB = 512;
const CHUNK = 1_000;
const MALFORMED_EVERY = 1_000;

/** The figures written under `load` in results.json. */
export interface LoadFigures {
  readonly events: number;
  readonly resultRecords: number;
  readonly rejected: number;
  readonly late: number;
  /** input − (results + rejected + late); 0 when nothing was lost. */
  readonly lost: number;
  readonly maxRssMb: number;
  readonly seconds: number;
  /** PutRecords rate of the producer (2 requests of 500 in flight) into the load run's Kinesis emulator (kinesalite). */
  readonly putRecordsPerSec: number;
  /** Input / time from the first put to the mapping being idle (processing runs while records are put). */
  readonly processedRecordsPerSec: number;
}

function positiveInt(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer (given ${JSON.stringify(value)})`);
  return n;
}

/** Chunk `c` of the input: 1,000 events over 20 s of event time, continuing where chunk `c - 1` ended. */
function chunk(c: number, size: number): { data: string; partitionKey: string }[] {
  const [batch] = clickstreamBatches({ ...DEFAULT_WORKLOAD, batches: 1, batchSize: size, seed: 100_000 + c, startTime: DEFAULT_WORKLOAD.startTime + c * DEFAULT_WORKLOAD.batchSpanMs });
  return (batch?.Records ?? []).map((r, i) => ({
    data: (c * CHUNK + i) % MALFORMED_EVERY === MALFORMED_EVERY - 1 ? Buffer.from('{"eventId": "truncated').toString('base64') : r.kinesis.data,
    partitionKey: r.kinesis.partitionKey,
  }));
}

async function countLines(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let lines = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of page.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))).Body?.transformToString();
      lines += (body ?? '').split('\n').filter((l) => l.length > 0).length;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return lines;
}

async function resultRecords(s3: S3Client, bucket: string, table: string): Promise<number> {
  const dir = await mkdtemp(join(__dirname, '../../.shardflow', 'load-results-'));
  try {
    const keys = await mirrorPrefix(s3, bucket, `results/${table}/`, dir);
    if (keys.length === 0) return 0;
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const rows = (await connection.runAndReadAll(`SELECT coalesce(sum(events), 0) FROM read_parquet('${dir}/results/${table}/**/*.parquet', hive_partitioning = true)`)).getRows();
      return Number(rows[0]?.[0] ?? 0);
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runLoad(events: number, log: (line: string) => void, templatePath?: string): Promise<LoadFigures> {
  const spec = pageActivity.spec;
  let maxRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage.rss())), 250);
  const started = performance.now();
  log(`load: deploying the app on the local cloud${templatePath === undefined ? ' (cdk synth first)' : ''}…`);
  // kinesalite, not kinesis-mock: kinesis-mock 0.6.2's PutRecords costs time proportional to the records already
  // in the shard (see localstack/emulators/kinesaliteEmulator.ts), which puts 1,000,000 events out of reach.
  const stack = await deployStack(spec, { kinesisEmulator: 'kinesalite', log: (line) => log(`load: emulator ${line}`), ...(templatePath === undefined ? {} : { templatePath }) });
  try {
    const clients = stack.bench.clients();
    const runtime = await stack.startMapping({ pollIntervalMs: 200, log: (line) => log(`load: mapping ${line}`) });
    const sendStarted = performance.now();
    let putSeconds = 0;
    let put = 0;
    let last = { at: sendStarted, processed: 0 };
    const report = setInterval(() => {
      const now = performance.now();
      const processed = stack.processed();
      const rate = Math.round(((processed - last.processed) * 1000) / (now - last.at));
      last = { at: now, processed };
      log(
        `load: ${Math.round((now - sendStarted) / 1000)} s: put ${put}/${events}, processed ${processed}/${events} (${rate}/s now), ` +
          `${stack.failures()} failed invocations, RSS ${Math.round(process.memoryUsage.rss() / 1e6)} MB (max ${Math.round(maxRss / 1e6)})`,
      );
    }, 15_000);
    try {
      // Generated a chunk at a time, so the producer never holds the whole input.
      for (let c = 0; c * CHUNK < events; c++) {
        const records = chunk(c, Math.min(CHUNK, events - c * CHUNK));
        await putAll(clients.kinesis, stack.streamName, records);
        put += records.length;
      }
      putSeconds = (performance.now() - sendStarted) / 1000;
      log(`load: ${events} events put in ${putSeconds.toFixed(1)} s; waiting for the mapping to drain…`);
      await runtime.idle(30 * 60_000);
    } finally {
      clearInterval(report);
    }
    const processSeconds = (performance.now() - sendStarted) / 1000;
    await stack.stopMapping();
    // End of input: the watermark jumps to +∞ and every window closes (as `npm start` does).
    const processor = new BatchProcessor({
      pipeline: pageActivity as unknown as StatefulPipeline,
      store: new DynamoDBStateStore({ tableName: stack.stateTable, client: clients.dynamoDb }),
      objects: new S3ObjectStore({ bucket: stack.bucket, client: clients.s3 }),
      encoder: new ParquetResultEncoder(),
      clock: { now: () => Date.now() },
    });
    log(`load: drained in ${processSeconds.toFixed(1)} s; closing every window (watermark +∞)…`);
    let windows = 0;
    for (let emitted = -1; emitted !== 0; windows += emitted) emitted = (await processor.tick(Number.POSITIVE_INFINITY)).windowsEmitted;
    log(`load: ${windows} windows emitted at end of input; counting results, rejected and late records…`);
    const [results, rejected, late] = await Promise.all([
      resultRecords(clients.s3, stack.bucket, spec.sink.table),
      countLines(clients.s3, stack.bucket, 'rejected/'),
      countLines(clients.s3, stack.bucket, 'late/'),
    ]);
    return {
      events,
      resultRecords: results,
      rejected,
      late,
      lost: events - (results + rejected + late),
      maxRssMb: Math.round(maxRss / 1e6),
      seconds: Math.round((performance.now() - started) / 1000),
      putRecordsPerSec: Math.round(events / putSeconds),
      processedRecordsPerSec: Math.round(events / processSeconds),
    };
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const options = new Command()
    .name('test:load')
    .option('--events <n>', 'events to push through the local cloud', positiveInt, 1_000_000)
    .option('--template <path>', 'a synthesized stack template to deploy instead of running cdk synth')
    .parse(process.argv)
    .opts<{ events: number; template?: string }>();
  const figures = await runLoad(options.events, (line) => console.log(line), options.template);
  console.log(JSON.stringify(figures, null, 2));
  const file = join(__dirname, '../bench/results.json');
  let results: Record<string, Figures> = {};
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Figures>;
  } catch {
    // First run: no results yet.
  }
  results.load = { ...figures };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(__dirname, '../bench/RESULTS.md'), renderResultsMarkdown(results));
  const problems = [
    ...(figures.lost !== 0 ? [`${figures.lost} records unaccounted for (results ${figures.resultRecords} + rejected ${figures.rejected} + late ${figures.late} ≠ input ${figures.events})`] : []),
    ...(figures.maxRssMb > RSS_GOAL_MB ? [`max RSS ${figures.maxRssMb} MB is above ${RSS_GOAL_MB} MB`] : []),
  ];
  if (problems.length > 0) throw new Error(problems.join('; '));
  console.log(`load: OK — nothing lost, max RSS ${figures.maxRssMb} MB ≤ ${RSS_GOAL_MB} MB`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
