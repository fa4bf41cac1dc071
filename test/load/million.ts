/**
 * `npm run test:load [-- --events <n>]`: pushes `n` clickstream events (default 1,000,000; one in 1,000 is
 * malformed on purpose) through the real app deployed on the local cloud (cdk synth → local deployer → ESM
 * runtime → bundled operator in warm workers) while the mapping runs, closes every window at the end of
 * input, and checks that nothing was lost: the `events` counts of the result rows + rejected + late records
 * equal the input. Samples the RSS of this process — which hosts the ESM runtime and its worker threads —
 * and reports the maximum (goal ≤ 512 MB). Figures are merged into `test/bench/results.json` under `load`.
 *
 * The stream is served by kinesalite rather than kinesis-mock (see localstack/emulators/kinesaliteEmulator.ts).
 * `npm run test:load` runs this file with `--max-semi-space-size=4`: V8's young generation (16 MB semi-spaces by
 * default, ×3 per isolate) is capped at 4 MB semi-spaces in the main thread and the operator's warm workers.
 * Measured at 300,000 events: max RSS 483 MB with the default, 400 MB with the cap; at 1,000,000 events the
 * default reached 519 MB.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError } from 'commander';
import { parquetReadObjects } from 'hyparquet';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BatchProcessor } from '../../functions/core/state/BatchProcessor';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import { deployStack, putAll } from '../bench/deployedStack';
import { countSideOutputRecords } from '../../localstack/start/bucketCounters';
import { readResults, writeResults } from '../bench/resultsFiles';
import { clickstreamBatches, DEFAULT_WORKLOAD } from '../bench/workload';

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
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer (given ${JSON.stringify(value)})`);
  return n;
}

/** Chunk `c` of the input: 1,000 events over 20 s of event time, continuing where chunk `c - 1` ended. */
function chunk(c: number, size: number): { data: string; partitionKey: string }[] {
  const [batch] = clickstreamBatches({
    ...DEFAULT_WORKLOAD,
    batches: 1,
    batchSize: size,
    seed: 100_000 + c,
    startTime: DEFAULT_WORKLOAD.startTime + c * DEFAULT_WORKLOAD.batchSpanMs,
  });
  return (batch?.Records ?? []).map((r, i) => ({
    data:
      (c * CHUNK + i) % MALFORMED_EVERY === MALFORMED_EVERY - 1
        ? Buffer.from('{"eventId": "truncated').toString('base64')
        : r.kinesis.data,
    partitionKey: r.kinesis.partitionKey,
  }));
}

/** Calls `read` with the body of every object under `prefix`, one object at a time (bounded memory). */
async function forEachObject(
  s3: S3Client,
  bucket: string,
  prefix: string,
  read: (body: Uint8Array) => Promise<void> | void,
): Promise<number> {
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      await read(
        (await (
          await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }))
        ).Body?.transformToByteArray()) ?? new Uint8Array(),
      );
      objects += 1;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return objects;
}

/** Records in the JSON-lines objects under `prefix` (rejected and late: one per line). */
async function countSideOutput(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  let records = 0;
  await forEachObject(s3, bucket, prefix, (body) => {
    records += countSideOutputRecords(Buffer.from(body).toString('utf8'));
  });
  return records;
}

/**
 * Sum of the `events` column over the result Parquet objects of `table`, read one object at a time with
 * hyparquet (DuckDB over all files at once held ~30 MB more at the 1,000,000-event end of input).
 */
async function resultRecords(
  s3: S3Client,
  bucket: string,
  table: string,
): Promise<{ readonly events: number; readonly objects: number }> {
  let events = 0;
  const objects = await forEachObject(s3, bucket, `results/${table}/`, async (body) => {
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    for (const row of await parquetReadObjects({ file, columns: ['events'] }))
      events += Number((row as { events: number | bigint }).events);
  });
  return { events, objects };
}

export async function runLoad(
  events: number,
  log: (line: string) => void,
  templatePath?: string,
): Promise<LoadFigures> {
  const spec = pageActivity.spec;
  let maxRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage.rss())), 250);
  const started = performance.now();
  log(`load: deploying the app on the local cloud${templatePath === undefined ? ' (cdk synth first)' : ''}…`);
  // kinesalite, not kinesis-mock: kinesis-mock 0.6.2's PutRecords costs time proportional to the records already
  // in the shard (see localstack/emulators/kinesaliteEmulator.ts), which puts 1,000,000 events out of reach.
  let stack: Awaited<ReturnType<typeof deployStack>>;
  try {
    stack = await deployStack(spec, {
      kinesisEmulator: 'kinesalite',
      log: (line) => log(`load: emulator ${line}`),
      // What a failed invocation says (the mapping retries it; the count is in the progress lines).
      hooks: {
        onInvoke: (info, outcome) => {
          if (!outcome.ok)
            log(`load: invocation failed on ${info.shardId}: ${outcome.errorType}: ${outcome.errorMessage}`);
        },
      },
      ...(templatePath === undefined ? {} : { templatePath }),
    });
  } catch (error) {
    clearInterval(sampler);
    throw error;
  }
  try {
    const clients = stack.bench.clients();
    // Read-ahead of 1,000 records per shard (two batches) instead of 10,000: the main thread holds less.
    const runtime = await stack.startMapping({
      pollIntervalMs: 200,
      maxBufferedRecords: 1_000,
      log: (line) => log(`load: mapping ${line}`),
    });
    const sendStarted = performance.now();
    let putSeconds = 0;
    let put = 0;
    let last = { at: sendStarted, processed: 0 };
    const report = setInterval(() => {
      const now = performance.now();
      const processed = stack.processed();
      const rate = Math.round(((processed - last.processed) * 1000) / (now - last.at));
      last = { at: now, processed };
      const memory = process.memoryUsage();
      log(
        `load: ${Math.round((now - sendStarted) / 1000)} s: put ${put}/${events}, processed ${processed}/${events} (${rate}/s now), ` +
          `${stack.failures()} failed invocations, RSS ${Math.round(memory.rss / 1e6)} MB (max ${Math.round(maxRss / 1e6)}; ` +
          `main thread heap ${Math.round(memory.heapUsed / 1e6)}/${Math.round(memory.heapTotal / 1e6)} MB, external ${Math.round(memory.external / 1e6)} MB)`,
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
    log(
      `load: drained in ${processSeconds.toFixed(1)} s (max RSS so far ${Math.round(maxRss / 1e6)} MB); closing every window (watermark +∞)…`,
    );
    let windows = 0;
    for (let emitted = -1; emitted !== 0; windows += emitted)
      emitted = (await processor.tick(Number.POSITIVE_INFINITY)).windowsEmitted;
    log(`load: ${windows} windows emitted at end of input; counting results, rejected and late records…`);
    // One reader at a time, so that checking the output does not add to the peak it measures.
    const { events: results, objects } = await resultRecords(clients.s3, stack.bucket, spec.sink!.table);
    const rejected = await countSideOutput(clients.s3, stack.bucket, 'rejected/');
    const late = await countSideOutput(clients.s3, stack.bucket, 'late/');
    log(`load: ${objects} result objects hold ${results} events; ${rejected} rejected, ${late} late`);
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
  await writeResults({ ...readResults(), load: { ...figures } });
  const problems = [
    ...(figures.lost !== 0
      ? [
          `${figures.lost} records unaccounted for (results ${figures.resultRecords} + rejected ${figures.rejected} + late ${figures.late} ≠ input ${figures.events})`,
        ]
      : []),
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
