/**
 * Bench part `e2e`: the real app synthesized and deployed on the local cloud; a backlog of clickstream
 * records is put on its stream, then the page-activity operator's event source mapping (ESM runtime, one
 * worker per shard) drains it; then a second backlog, later in event time, is put and drained by the same
 * workers. Figures: processed records/s of the second drain (warm workers, as a Lambda execution environment
 * that has been running) against the raw GetRecords rate of the same emulator reading the same stream, with
 * the first drain's (fresh workers) as `cold…` (the raw reads run between the two drains, while the stream
 * holds only the first backlog, as in earlier rounds); and the latency from the pipeline watermark passing a
 * window's close time (end + allowed lateness) to that window's Parquet object being listed in S3, sampled
 * by a monitor that polls the shard progress items and the results prefix.
 *
 * Why two drains: fresh workers compile as they go. V8's optimizing compiler ran on its background threads
 * through the whole of a 200,000-record drain by fresh workers (816 TurboFan jobs, 0.2-1.3 s of compile time
 * in every second of the ~13 s drain, `--trace-opt`, 2026-12-07; `perf`: a third of the bench process's
 * CPU), because code that runs once per batch or per request gets hot only after tens of batches. The raw
 * read runs after the drains, on code already compiled; the second drain compares like with like.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../functions/adapters/S3ObjectStore';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import { pipelineWatermark } from '../../functions/core/watermark/pipelineWatermark';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import { KINESIS_EMULATORS, type KinesisEmulatorKind } from '../../localstack/emulators';
import { deployStack, putAll } from './deployedStack';
import { ownCpuMs, processGroupCpuMs } from './processCpu';
import { clickstreamBatches, DEFAULT_WORKLOAD } from './workload';

/** The figures written under `e2e` in results.json. */
export interface E2eFigures {
  readonly recordsPerSec: number;
  /** The median of {@link rawGetRecordsPerSecRuns}. */
  readonly rawGetRecordsPerSec: number;
  /** Records/s of each raw read (`read1`, `read2`, ...). */
  readonly rawGetRecordsPerSecRuns: Readonly<Record<string, number>>;
  /** Records/s of one raw read of the second backlog (not the baseline: see `runE2eBench`). */
  readonly rawSecondBacklogPerSec: number;
  /** {@link recordsPerSec} / {@link rawGetRecordsPerSec}: the drain by warm workers against the read of the first backlog. */
  readonly ratio: number;
  /** Records/s of the first drain, by fresh workers (JIT compiling as they go): the `ratio` of rounds before 2026-12-07. */
  readonly coldRecordsPerSec: number;
  readonly coldRatio: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Records of each backlog (two are drained: by fresh workers, then by the same workers warm). */
  readonly records: number;
  readonly latencySamples: number;
  /** GetRecords limit of the raw read: the mapping's BatchSize. */
  readonly getRecordsLimit: number;
  /** Period of the monitor that samples watermark and S3 (the latency resolution). */
  readonly monitorPeriodMs: number;
  /** CPU µs per drained record of the bench process (edge, mapping runtime, workers, monitor) during the drain. */
  readonly cpuUsPerRecord: number;
  /** {@link cpuUsPerRecord} of the first drain (fresh workers). */
  readonly coldCpuUsPerRecord: number;
  /** CPU µs per drained record of the three emulators' processes during the drain (where `/proc` exists). */
  readonly emulatorCpuUsPerRecord?: number;
  /** {@link emulatorCpuUsPerRecord} by emulator (Kinesis, DynamoDB, S3). */
  readonly emulatorCpuUsPerRecordBy?: Readonly<Record<string, number>>;
  /** CPU µs per record of the bench process during the raw read (its GetRecords calls and the edge proxying them). */
  readonly rawReadCpuUsPerRecord: number;
  /** CPU µs per record of the emulators during the raw read, in all. */
  readonly rawReadEmulatorCpuUsPerRecord?: number;
  /** {@link rawReadEmulatorCpuUsPerRecord} by emulator. */
  readonly rawReadEmulatorCpuUsPerRecordBy?: Readonly<Record<string, number>>;
}

export interface E2eBenchOptions {
  /**
   * Records in the backlog (1,000 per 20 s of event time, 50 Zipf keys). 200,000 drain in ~9 s here, long
   * enough for a steady rate: of a 40,000-record drain (~3 s) the first second is warm-up (workers' and
   * emulators' JIT) and each shard's last, partial batch waits its 1 s batching window (Lambda's
   * MaximumBatchingWindowInSeconds), so that run measured 0.30-0.32 of the raw rate for the same code.
   * @default 200000
   */
  readonly records?: number;
  /** The Kinesis engine, the same one `shardflow run` uses by default. @default 'kinesalite' */
  readonly kinesisEmulator?: KinesisEmulatorKind;
  /** A synthesized template to deploy instead of running `cdk synth`. */
  readonly templatePath?: string;
  readonly log?: (line: string) => void;
}

const MONITOR_PERIOD_MS = 100;
/** Raw reads of the whole stream after the drain; the median is the baseline. */
const RAW_READS = 3;

/** The emulators' figures of the raw read, under their `rawRead…` names. */
function rawReadFigures(
  figures: ReturnType<typeof emulatorFigures>,
): Pick<E2eFigures, 'rawReadEmulatorCpuUsPerRecord' | 'rawReadEmulatorCpuUsPerRecordBy'> {
  return figures.emulatorCpuUsPerRecord === undefined || figures.emulatorCpuUsPerRecordBy === undefined
    ? {}
    : {
        rawReadEmulatorCpuUsPerRecord: figures.emulatorCpuUsPerRecord,
        rawReadEmulatorCpuUsPerRecordBy: figures.emulatorCpuUsPerRecordBy,
      };
}

/** CPU ms so far of the bench process and of each emulator (by service; undefined without `/proc`). */
interface CpuAt {
  readonly own: number;
  readonly emulators: ReadonlyMap<string, number> | undefined;
}

/** The emulators' CPU µs per drained record, in all and by service, from their CPU ms at both ends. */
function emulatorFigures(
  start: ReadonlyMap<string, number> | undefined,
  end: ReadonlyMap<string, number> | undefined,
  drained: number,
): Pick<E2eFigures, 'emulatorCpuUsPerRecord' | 'emulatorCpuUsPerRecordBy'> {
  if (start === undefined || end === undefined) return {};
  const by = Object.fromEntries(
    [...end].map(([service, ms]) => [
      service,
      Math.round(((ms - (start.get(service) ?? 0)) * 1000) / drained),
    ]),
  );
  const total = [...end].reduce((sum, [service, ms]) => sum + ms - (start.get(service) ?? 0), 0);
  return { emulatorCpuUsPerRecord: Math.round((total * 1000) / drained), emulatorCpuUsPerRecordBy: by };
}

/**
 * Reads every shard's records with GetRecords, `limit` records per call (the mapping's BatchSize: the calls
 * the ESM must make too), shards in parallel, from TRIM_HORIZON (or `from`, AT_TIMESTAMP) to the shard's
 * end. Timed from the first GetRecords: kinesalite answers an AT_TIMESTAMP GetShardIterator by reading the
 * shard from its start.
 */
async function rawRead(
  kinesis: KinesisClient,
  streamName: string,
  limit: number,
  range: { readonly from?: Date },
): Promise<{ records: number; ms: number }> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const iterators = await Promise.all(
    shards.map(
      async (shard) =>
        (
          await kinesis.send(
            new GetShardIteratorCommand({
              StreamName: streamName,
              ShardId: shard.ShardId,
              ...(range.from === undefined
                ? { ShardIteratorType: 'TRIM_HORIZON' }
                : { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: range.from }),
            }),
          )
        ).ShardIterator,
    ),
  );
  const started = performance.now();
  const counts = await Promise.all(
    iterators.map(async (first) => {
      let iterator = first;
      let n = 0;
      while (iterator !== undefined) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
        n += out.Records?.length ?? 0;
        if ((out.Records?.length ?? 0) === 0 && (out.MillisBehindLatest ?? 0) === 0) break;
        iterator = out.NextShardIterator;
      }
      return n;
    }),
  );
  return { records: counts.reduce((a, b) => a + b, 0), ms: performance.now() - started };
}

/** One timed raw read, with the CPU at its ends. */
interface RawRead {
  readonly records: number;
  readonly ms: number;
  readonly cpuAtStart: CpuAt;
  readonly cpuAtEnd: CpuAt;
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return new S3ObjectStore({ client: s3, bucket }).listKeys(prefix);
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;

/** What one drain of a backlog measured. */
interface Drain {
  /** Wall-clock time before the backlog was put (where a raw read of just this backlog starts). */
  readonly putAt: Date;
  readonly started: number;
  readonly ms: number;
  readonly records: number;
  readonly cpuAtStart: CpuAt;
  readonly cpuAtEnd: CpuAt;
}

export async function runE2eBench(options: E2eBenchOptions = {}): Promise<E2eFigures> {
  const log = options.log ?? ((line: string) => console.log(line));
  const total = options.records ?? 200_000;
  const kinesisEmulator = options.kinesisEmulator ?? KINESIS_EMULATORS.KINESALITE;
  const spec = pageActivity.spec;
  if (spec.window!.kind !== 'tumbling') throw new Error('e2e bench expects tumbling windows');
  const windowMs = spec.window!.sizeMs;
  log('e2e: synthesizing the app and deploying it on the local cloud…');
  // Set while a drain runs: samples the CPU when the invocation that processed its last record ends.
  let afterInvocation: (() => void) | undefined;
  const stack = await deployStack(spec, {
    kinesisEmulator,
    ...(options.templatePath === undefined ? {} : { templatePath: options.templatePath }),
    hooks: {
      onInvoke: (info, outcome) => {
        if (outcome.ok) afterInvocation?.();
        else log(`e2e: invocation failed on ${info.shardId}: ${outcome.errorType}: ${outcome.errorMessage}`);
      },
    },
  });
  try {
    const clients = stack.bench.clients();
    // Two backlogs of `total` records, the second later in event time: the first drained by fresh workers
    // (`cold…` figures), the second by the same workers once warm (the figures without a prefix).
    const events = clickstreamBatches({
      ...DEFAULT_WORKLOAD,
      batches: Math.ceil((2 * total) / 1000),
      seed: 11,
    });
    const all = events
      .flatMap((e) => e.Records.map((r) => ({ data: r.kinesis.data, partitionKey: r.kinesis.partitionKey })))
      .slice(0, 2 * total);
    const backlogs = [all.slice(0, total), all.slice(total)] as const;

    // The close time of every window the input has: result objects are named `<start>-<end>`.
    const closeTimes = new Set<number>();
    const first = DEFAULT_WORKLOAD.startTime;
    const last = first + Math.ceil((2 * total) / 1000) * DEFAULT_WORKLOAD.batchSpanMs;
    for (let start = Math.floor(first / windowMs) * windowMs; start <= last; start += windowMs) {
      closeTimes.add(start + windowMs + spec.time.allowedLatenessMs);
    }
    const closeAtOf = (objectKey: string): number | undefined => {
      const match = /\/(\d+)-(\d+)\.[a-z]+$/.exec(objectKey);
      return match === null ? undefined : Number(match[2]) + spec.time.allowedLatenessMs;
    };

    // Monitor: when does each window's close time fall below the watermark, when is its object listed?
    const store = stack.stateStore();
    const passedAt = new Map<number, number>();
    const seenAt = new Map<string, number>();
    let monitoring = true;
    /** Off during the raw reads, which are timed alone (as in earlier rounds, after the monitor stopped). */
    let monitorPaused = false;
    const monitor = (async () => {
      while (monitoring) {
        if (stack.failures() > 0) break;
        if (monitorPaused) {
          await new Promise((r) => setTimeout(r, MONITOR_PERIOD_MS));
          continue;
        }
        const tick = performance.now();
        const [snapshot, keys] = await Promise.all([
          store.readProgress(spec.name),
          listKeys(clients.s3, stack.bucket, `${BUCKET_PREFIX.RESULTS}${spec.sink!.table}/`),
        ]);
        const watermark = pipelineWatermark(snapshot.shards, Date.now(), spec.time.idleTimeoutMs);
        for (const closeAt of closeTimes)
          if (watermark >= closeAt && !passedAt.has(closeAt)) passedAt.set(closeAt, tick);
        for (const key of keys) if (!seenAt.has(key)) seenAt.set(key, tick);
        await new Promise((r) => setTimeout(r, Math.max(0, MONITOR_PERIOD_MS - (performance.now() - tick))));
      }
    })();
    const emulatorPids = Object.entries(stack.bench.cloud.pids);
    /** CPU ms of each emulator's process group, by service. */
    const emulatorCpuMs = (): Map<string, number> | undefined => {
      const byGroup = processGroupCpuMs(emulatorPids.map(([, pid]) => pid));
      return byGroup === undefined
        ? undefined
        : new Map(emulatorPids.map(([service, pid]) => [service, byGroup.get(pid) ?? 0]));
    };
    const cpuNow = (): CpuAt => ({ own: ownCpuMs(), emulators: emulatorCpuMs() });

    /** Puts `records` while the mapping is stopped, then times their drain. */
    const drain = async (
      records: readonly { data: string; partitionKey: string }[],
      phase: string,
      reuseWorkers: boolean,
    ): Promise<Drain> => {
      log(`e2e (${phase}): putting a backlog of ${records.length} records…`);
      const putAt = new Date();
      const putStarted = performance.now();
      await putAll(clients.kinesis, stack.streamName, records);
      log(`e2e (${phase}): backlog put in ${Math.round(performance.now() - putStarted)} ms; draining…`);
      const before = stack.processed();
      let started = performance.now();
      let cpuAtStart = cpuNow();
      let cpuAtLastRecord: CpuAt | undefined;
      afterInvocation = () => {
        if (cpuAtLastRecord === undefined && stack.processed() - before >= records.length)
          cpuAtLastRecord = cpuNow();
      };
      const progress = setInterval(
        () =>
          log(
            `e2e (${phase}): drained ${stack.processed() - before} records, ${stack.failures()} failed invocations, ${Math.round(performance.now() - started)} ms`,
          ),
        10_000,
      );
      try {
        const runtime = await stack.startMapping({
          reuseWorkers,
          onWarm: () => {
            started = performance.now();
            cpuAtStart = cpuNow();
          },
        });
        await runtime.idle(300_000);
        // Until the invocation that processed the last record ended: idle() itself needs a poll of every
        // shard after that (two poll intervals or more), which is the harness's latency, not processing.
        const ms = stack.lastProcessedAt() - started;
        if (!(ms > 0))
          throw new Error(`e2e: no invocation processed records after the mapping started (${ms} ms)`);
        // CPU over the same window as the rate (the idle() polls after it are left out).
        const cpuAtEnd = cpuAtLastRecord ?? cpuNow();
        const drained = stack.processed() - before;
        if (stack.failures() > 0) throw new Error(`e2e: ${stack.failures()} invocations failed`);
        if (drained !== records.length)
          throw new Error(`e2e: drained ${drained} of ${records.length} records`);
        return { putAt, started, ms, records: drained, cpuAtStart, cpuAtEnd };
      } finally {
        clearInterval(progress);
        afterInvocation = undefined;
        await stack.stopMapping();
      }
    };

    /**
     * The baseline: GetRecords of the first backlog while the stream holds only it, after its drain (the
     * records, stream size and timing of earlier rounds' baseline), three times, the median.
     */
    const readFirstBacklog = async (records: number): Promise<RawRead[]> => {
      log(`e2e: raw GetRecords of the first backlog (${records} records), ${RAW_READS} times…`);
      const reads: RawRead[] = [];
      for (let i = 0; i < RAW_READS; i++) {
        const cpuAtStart = cpuNow();
        const read = await rawRead(clients.kinesis, stack.streamName, stack.batchSize, {});
        const cpuAtEnd = cpuNow();
        if (read.records !== records)
          throw new Error(`e2e: raw read found ${read.records} of ${records} records`);
        reads.push({ ...read, cpuAtStart, cpuAtEnd });
      }
      return reads;
    };

    let cold: Drain;
    let warm: Drain;
    let reads: RawRead[];
    try {
      cold = await drain(backlogs[0], 'fresh workers', false);
      monitorPaused = true;
      reads = await readFirstBacklog(cold.records);
      monitorPaused = false;
      const workers = stack.coldStarts();
      warm = await drain(backlogs[1], 'warm workers', true);
      if (stack.coldStarts() !== workers)
        throw new Error(`e2e: the warm drain started ${stack.coldStarts() - workers} fresh workers`);
      await new Promise((r) => setTimeout(r, 3 * MONITOR_PERIOD_MS));
    } finally {
      monitoring = false;
      await monitor.catch(() => undefined);
    }
    // The median read by rate, so one read slowed by other load on the machine is not the baseline.
    const byRate = [...reads].sort((a, b) => a.ms - b.ms);
    const raw = byRate[Math.floor(byRate.length / 2)]!;
    const rawGetRecordsPerSec = raw.records / (raw.ms / 1000);
    // For comparison only: the second backlog's records read with both in the stream.
    const second = await rawRead(clients.kinesis, stack.streamName, stack.batchSize, { from: warm.putAt });
    if (second.records !== warm.records)
      throw new Error(
        `e2e: raw read of the second backlog found ${second.records} of ${warm.records} records`,
      );

    /**
     * Close → listed latencies of the windows whose close the monitor saw after the second drain began (a
     * window whose close passed at the end of the first waits out the pause between the drains: no sample).
     */
    const latenciesOf = (d: Drain): number[] => {
      const out: number[] = [];
      for (const [key, seen] of seenAt) {
        const closeAt = closeAtOf(key);
        const passed = closeAt === undefined ? undefined : passedAt.get(closeAt);
        if (passed !== undefined && passed >= d.started) out.push(Math.max(0, seen - passed));
      }
      return out.sort((a, b) => a - b);
    };
    const rateOf = (d: Drain): number => d.records / (d.ms / 1000);
    const cpuOf = (d: Drain): number => Math.round(((d.cpuAtEnd.own - d.cpuAtStart.own) * 1000) / d.records);
    const latencies = latenciesOf(warm);
    return {
      recordsPerSec: Math.round(rateOf(warm)),
      rawGetRecordsPerSec: Math.round(rawGetRecordsPerSec),
      rawGetRecordsPerSecRuns: Object.fromEntries(
        reads.map((read, i) => [`read${i + 1}`, Math.round(read.records / (read.ms / 1000))]),
      ),
      rawSecondBacklogPerSec: Math.round(second.records / (second.ms / 1000)),
      ratio: Number((rateOf(warm) / rawGetRecordsPerSec).toFixed(3)),
      coldRecordsPerSec: Math.round(rateOf(cold)),
      coldRatio: Number((rateOf(cold) / rawGetRecordsPerSec).toFixed(3)),
      p50Ms: Math.round(percentile(latencies, 0.5)),
      p99Ms: Math.round(percentile(latencies, 0.99)),
      records: warm.records,
      latencySamples: latencies.length,
      getRecordsLimit: stack.batchSize,
      monitorPeriodMs: MONITOR_PERIOD_MS,
      cpuUsPerRecord: cpuOf(warm),
      coldCpuUsPerRecord: cpuOf(cold),
      ...emulatorFigures(warm.cpuAtStart.emulators, warm.cpuAtEnd.emulators, warm.records),
      rawReadCpuUsPerRecord: Math.round(((raw.cpuAtEnd.own - raw.cpuAtStart.own) * 1000) / raw.records),
      ...rawReadFigures(emulatorFigures(raw.cpuAtStart.emulators, raw.cpuAtEnd.emulators, raw.records)),
    };
  } finally {
    await stack.stop();
  }
}
