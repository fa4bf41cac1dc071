/**
 * Engine throughput bench: the operator path (`prepare` + `combine` of the page-activity pipeline:
 * base64 → UTF-8 → JSON → zod → event time → dedupe id → key → 8 aggregates → tumbling window) against a
 * bare `JSON.parse(Buffer.from(data, 'base64').toString())` loop over the same records, measured in the
 * same process in alternating rounds; medians are reported. A second figure runs the same records through
 * a lean pipeline (same schema, key and window; count + sum) in the same rounds.
 */
import { performance } from 'node:perf_hooks';
import { count, parseIsoDateTime, pipeline, sum, tumbling } from '../../functions/core/dsl';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { pageActivity } from '../../functions/pipelines';
import { PageEvent } from '../../functions/pipelines/pageActivity';
import type { RawRecord } from '../../functions/core/types';
import { clickEvent, kinesisSequence } from '../helpers/records';

/** Figures written to `results.json` under `engine`. */
export interface EngineBenchResult {
  readonly recordsPerSec: number;
  readonly baselineRecordsPerSec: number;
  readonly ratio: number;
  /** Same records through a lean pipeline (same schema, keyBy, tumbling window, count + sum only). */
  readonly leanRecordsPerSec: number;
  /** `leanRecordsPerSec / baselineRecordsPerSec`; the headline `ratio` stays the default pipeline's. */
  readonly leanRatio: number;
  /**
   * The same ratio from process CPU time (median baseline CPU ms / median engine CPU ms): on a shared,
   * loaded machine wall-clock rounds absorb other processes' load unevenly, CPU time much less. GC helper
   * threads count here, which can only lower the engine's figure.
   */
  readonly cpuRatio: number;
  /** {@link cpuRatio} for the lean pipeline. */
  readonly leanCpuRatio: number;
}

/** Bench settings (defaults are what `npm run bench` uses). */
export interface EngineBenchOptions {
  readonly records?: number;
  readonly rounds?: number;
  /** Records per `prepare`/`combine` call, like a Lambda batch. */
  readonly batchSize?: number;
}

const T0 = Date.UTC(2026, 0, 1);

// Bound once, as in functions/pipelines/pageActivity.ts.
const isoTime = parseIsoDateTime;

/**
 * The lean comparison pipeline: page-activity's schema, event time, dedupe id, key and window, with only
 * two cheap aggregates, to show the cost of the default pipeline's eight (sketches included).
 */
export const leanPipeline = pipeline('page-activity-lean')
  .source({ stream: 'clickstream', shards: 2 })
  .clean({ schema: PageEvent, eventTime: (e) => isoTime(e.ts), dedupeBy: (e) => e.eventId })
  .keyBy((e) => e.page, 'page')
  .window(tumbling('1m'), { allowedLateness: '30s', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({ events: count(), revenue: sum((e) => e.revenue) })
  .sink({ table: 'page_activity_lean' });

/** Builds `n` base64 click records of ~200 bytes on two shards, one event every 60 ms of event time. */
export function benchRecords(n: number): RawRecord[] {
  const out: RawRecord[] = [];
  for (let i = 0; i < n; i++) {
    const e = clickEvent(i, T0 + i * 60, {
      userId: `u${i % 997}`,
      sessionId: `s${i % 211}`,
      page: `/p/${i % 5}`,
    });
    out.push({
      shardId: i % 2 === 0 ? 'shardId-000000000000' : 'shardId-000000000001',
      sequenceNumber: kinesisSequence(i),
      partitionKey: e.userId,
      data: Buffer.from(JSON.stringify(e), 'utf8').toString('base64'),
      approximateArrivalTimestamp: T0 + n * 60,
    });
  }
  return out;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function baseline(records: readonly RawRecord[]): number {
  let sink = 0;
  for (let i = 0; i < records.length; i++) {
    const v = JSON.parse(Buffer.from(records[i]!.data, 'base64').toString('utf8')) as { durationMs: number };
    sink += v.durationMs;
  }
  return sink;
}

function engine(
  records: readonly RawRecord[],
  batchSize: number,
  p: CompiledPipeline<unknown> = pageActivity as CompiledPipeline<unknown>,
): number {
  let sink = 0;
  for (let start = 0; start < records.length; start += batchSize) {
    const prepared = p.prepare(records.slice(start, start + batchSize), {
      closedWatermark: -Infinity,
    });
    const partials = p.combine(prepared, () => undefined);
    for (const p of partials) sink += p.records;
  }
  return sink;
}

/** Wall-clock and process CPU time (user + system) of each round, in ms. */
interface Samples {
  readonly wall: number[];
  readonly cpu: number[];
}

const newSamples = (): Samples => ({ wall: [], cpu: [] });
const round3 = (x: number): number => Math.round(x * 1_000) / 1_000;

function time<R>(into: Samples, fn: () => R): R {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = fn();
  into.wall.push(performance.now() - t);
  const used = process.cpuUsage(cpu);
  into.cpu.push((used.user + used.system) / 1_000);
  return result;
}

/** Runs the bench and returns medians over alternating rounds. */
export async function runEngineBench(options: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const n = options.records ?? 100_000;
  const rounds = options.rounds ?? 7;
  const batchSize = options.batchSize ?? 1_000;
  const records = benchRecords(n);
  // Warm-up so both paths are optimised before timing.
  baseline(records.slice(0, 20_000));
  if (engine(records.slice(0, 20_000), batchSize) !== 20_000)
    throw new Error('engine bench: warm-up lost records');
  const lean = leanPipeline as CompiledPipeline<unknown>;
  if (engine(records.slice(0, 20_000), batchSize, lean) !== 20_000)
    throw new Error('engine bench: lean warm-up lost records');
  const base = newSamples();
  const eng = newSamples();
  const leanSamples = newSamples();
  for (let r = 0; r < rounds; r++) {
    time(base, () => baseline(records));
    const processed = time(eng, () => engine(records, batchSize));
    if (processed !== n) throw new Error(`engine bench: expected ${n} records aggregated, got ${processed}`);
    const leanProcessed = time(leanSamples, () => engine(records, batchSize, lean));
    if (leanProcessed !== n)
      throw new Error(`engine bench: expected ${n} records aggregated (lean), got ${leanProcessed}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const recordsPerSec = Math.round(n / (median(eng.wall) / 1_000));
  const baselineRecordsPerSec = Math.round(n / (median(base.wall) / 1_000));
  const leanRecordsPerSec = Math.round(n / (median(leanSamples.wall) / 1_000));
  return {
    recordsPerSec,
    baselineRecordsPerSec,
    ratio: Math.round((recordsPerSec / baselineRecordsPerSec) * 1_000) / 1_000,
    leanRecordsPerSec,
    leanRatio: Math.round((leanRecordsPerSec / baselineRecordsPerSec) * 1_000) / 1_000,
    cpuRatio: round3(median(base.cpu) / median(eng.cpu)),
    leanCpuRatio: round3(median(base.cpu) / median(leanSamples.cpu)),
  };
}
