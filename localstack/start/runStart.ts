import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import type { PipelineSpec } from '../../functions/core/types';
import { defaultPipelines } from '../../functions/pipelines';
import {
  generateClickstream,
  RECORD_KINDS,
  type ClickstreamDataset,
  type ClickstreamTotals,
} from '../generator/clickstream';
import { queryResults } from '../query/queryResults';
import { formatResult } from '../query/format';
import type { OutputFormat, QueryResult } from '../query/types';
import type { BucketCounts } from './bucketCounters';
import { ShardflowCliError } from './errors';
import type { InputRecord } from './inputFile';
import type { LiveLine } from './liveLine';
import { openLocalSession, type LocalSession } from './localSession';
import {
  checkAnswers,
  perPageCheckSql,
  perWindowCheckSql,
  sampleQueries,
  type Mismatch,
} from './sampleQueries';
import { sendRecords } from './sendRecords';
import { followSession } from './sessionProgress';
import { resultTableSql } from './boundedRun';
import { loadPipeline, synthContext } from './loadPipeline';
import { synthesizeCached } from './synthesize';

/** Options of {@link runStart}. */
export interface StartOptions {
  /** Distinct on-time events to generate (malformed, duplicate and late ones come on top). */
  readonly events: number;
  readonly seed: number;
  /** Records per second; absent means as fast as the stream accepts. */
  readonly rate?: number;
  /** Leave the cloud and the deployment running (the caller decides when to call `stop`). */
  readonly keep: boolean;
  /** Edge port of the embedded cloud; 0 picks a free port. */
  readonly edgePort: number;
  /** Format of the printed answers. */
  readonly format: OutputFormat;
  /** A synthesized stack template to deploy instead of running `cdk synth`. */
  readonly templatePath?: string;
  readonly live: LiveLine;
  /** Debug output of the cloud, deployer and runtime. */
  readonly verbose?: boolean;
  /**
   * Another pipeline to drive with the generated clickstream: a shipped name or a module path (deployed on
   * its own, `-c pipelines=<module>`). Its result table is printed; the answers are checked against the
   * generator's totals only for the default pipeline, whose columns they are about.
   * @default the default pipeline
   */
  readonly pipeline?: string;
}

/** What a start run did, for the caller and for tests. */
export interface StartReport {
  readonly totals: ClickstreamTotals;
  readonly counts: BucketCounts;
  readonly answers: readonly { readonly title: string; readonly result: QueryResult }[];
  readonly mismatches: readonly Mismatch[];
  /** False when the run drove another pipeline than the default: its answers were printed, not checked. */
  readonly checked: boolean;
  readonly timingsMs: Readonly<Record<string, number>>;
  /** The pipeline it drove, and its result table. */
  readonly pipeline: CompiledPipeline<unknown>;
  readonly table: string;
  /** Still running when `keep` was set; already stopped otherwise. */
  readonly session: LocalSession;
  /** Stops the session and removes the synthesized assembly (a no-op after a run without `keep`). */
  stop(): Promise<void>;
}

/** Records sent before the bulk so that every shard reports progress first (see the warm-up comment). */
const WARM_UP_RECORDS = 50;

/** How long to wait for the mappings to process `records` before giving up. */
export function drainTimeout(records: number): number {
  return 180_000 + records * 50;
}

/**
 * The clickstream `start` sends through `spec`'s tumbling windows: its lateness settings, and a span long
 * enough for late events to target a window that has closed (at least 6 minutes).
 */
export function startClickstream(spec: PipelineSpec, events: number, seed: number): ClickstreamDataset {
  if (spec.window?.kind !== 'tumbling')
    throw new ShardflowCliError(`${spec.name} does not use tumbling windows`);
  const windowMs = spec.window.sizeMs;
  return generateClickstream({
    events,
    seed,
    windowMs,
    maxOutOfOrdernessMs: spec.time.maxOutOfOrdernessMs,
    allowedLatenessMs: spec.time.allowedLatenessMs,
    spanMs: Math.max(6 * 60_000, 3 * windowMs + spec.time.allowedLatenessMs + spec.time.maxOutOfOrdernessMs),
  });
}

/** A pipeline `start` can drive with the clickstream generator: tumbling windows over its events. */
function defaultPipeline(): CompiledPipeline<unknown> {
  const pipeline = defaultPipelines[0];
  if (pipeline === undefined)
    throw new ShardflowCliError('No default pipeline is registered in functions/pipelines');
  return pipeline;
}

/** Milliseconds per named step, and a wrapper that records one. */
class StepTimings {
  public readonly ms: Record<string, number> = {};
  readonly #started = performance.now();

  public async timed<T>(name: string, step: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await step();
    } finally {
      this.ms[name] = Math.round(performance.now() - started);
    }
  }

  public total(): void {
    this.ms.total = Math.round(performance.now() - this.#started);
  }
}

/** The pipeline `start` runs, whether its rows are checked against the generator's totals, its synth context. */
function startPipeline(options: StartOptions): {
  pipeline: CompiledPipeline<unknown>;
  checked: boolean;
  context: Record<string, string>;
} {
  const checked = options.pipeline === undefined || options.pipeline === defaultPipeline().spec.name;
  const pipeline = options.pipeline === undefined ? defaultPipeline() : loadPipeline(options.pipeline);
  const { spec } = pipeline;
  if (spec.source.table !== undefined)
    throw new ShardflowCliError(
      `start sends the generated clickstream to a stream; ${spec.name} reads table ${spec.source.stream}: use shardflow run ${options.pipeline ?? spec.name} --input <change file>`,
    );
  if (spec.window?.kind !== 'tumbling') {
    throw new ShardflowCliError(
      `start drives tumbling-window pipelines with the generated clickstream (${spec.name} has ${spec.window === undefined ? 'no windows: it only publishes' : `${spec.window.kind} windows`}): use shardflow run ${options.pipeline ?? spec.name} --input <file>`,
    );
  }
  return { pipeline, checked, context: synthContext(options.pipeline) };
}

/** Synthesizes the app (unless a template is given, or nothing changed), starts the cloud and deploys it. */
async function deploy(
  options: StartOptions,
  context: Record<string, string>,
  timings: StepTimings,
): Promise<LocalSession> {
  const { live } = options;
  let templatePath = options.templatePath;
  if (templatePath === undefined) {
    live.update('synthesizing the CDK app (cdk synth, offline)…');
    // Inside the project (not under $SHARDFLOW_STATE_DIR or /tmp): the bundles leave the AWS SDK external
    // (Lambda provides it), so they must resolve it from the project's node_modules.
    const app = await timings.timed('synth', () => synthesizeCached(process.cwd(), context));
    if (app.cached) live.print('synth skipped: the app and its inputs have not changed since the last one');
    templatePath = app.templatePath;
  }
  const template = templatePath;
  live.update('starting the local cloud and deploying the stack…');
  const log = options.verbose === true ? (line: string) => live.print(`  ${line}`) : () => {};
  return timings
    .timed('deploy', () =>
      openLocalSession({
        templatePath: template,
        edgePort: options.edgePort,
        log,
        functionLogs: options.verbose === true,
      }),
    )
    .catch((error: unknown) => {
      live.done();
      throw error;
    });
}

/**
 * Sends the clickstream (a warm-up first, then the bulk, then the late records once their windows closed),
 * drains it and closes every window; returns what the bucket counted.
 */
async function streamClickstream(
  session: LocalSession,
  pipeline: CompiledPipeline<unknown>,
  dataset: ClickstreamDataset,
  options: StartOptions,
  timings: StepTimings,
): Promise<BucketCounts> {
  const { live } = options;
  const { totals } = dataset;
  const stream = session.streamOf(pipeline.spec);
  const toInput = (kind: 'main' | 'late'): InputRecord[] =>
    dataset.records
      .filter((r) => (kind === 'late') === (r.kind === RECORD_KINDS.LATE))
      .map((r) => ({ data: r.data, partitionKey: r.partitionKey }));
  live.print(
    `streaming ${totals.records} records to ${stream} (${options.events} events, ${totals.injected.duplicates} duplicates, ` +
      `${totals.injected.malformed} malformed, ${totals.injected.late} late, ${totals.injected.outOfOrder} out of order; seed ${options.seed})`,
  );
  // Generous: the local runtime drains ~100 records/s on 2 busy cores; a stuck pipeline still ends.
  const drainTimeoutMs = drainTimeout(totals.records);
  const progressLine = followSession(session, live, totals.records);
  let counts: BucketCounts;
  try {
    const send = (records: readonly InputRecord[], base: number, rate: boolean): Promise<unknown> =>
      sendRecords(records, {
        kinesis: session.clients.kinesis,
        stream,
        ...(rate && options.rate ? { rate: options.rate } : {}),
        onProgress: (p) => progressLine.sent(base + p.sent),
      });
    await timings.timed('send', () =>
      session.guard(
        (async () => {
          const main = toInput('main');
          // Warm-up: the first records go alone so that every shard has reported progress before the bulk
          // arrives. The pipeline watermark is the minimum over the shards it knows; a shard that has not
          // reported yet cannot hold it back, and its on-time records would be counted late.
          const head = main.slice(0, Math.min(main.length, WARM_UP_RECORDS));
          await send(head, 0, true);
          await session.app.runtime.idle(drainTimeoutMs);
          await send(main.slice(head.length), head.length, true);
          // The late records are sent once the on-time ones are processed and the tick has closed their
          // windows (the schedule would within its period).
          await session.closeDue(pipeline, drainTimeoutMs);
          await send(toInput('late'), main.length, false);
        })(),
      ),
    );
    await timings.timed('drain', () => session.guard(session.endOfInput(pipeline, drainTimeoutMs)));
  } finally {
    counts = await progressLine.stop();
  }
  live.done();
  return counts;
}

/** Runs the sample queries (and, for the checked pipeline, the checks), prints them, and compares. */
async function answer(
  session: LocalSession,
  pipeline: CompiledPipeline<unknown>,
  checked: boolean,
  totals: ClickstreamTotals,
  counts: BucketCounts,
  options: StartOptions,
  timings: StepTimings,
): Promise<Pick<StartReport, 'answers' | 'mismatches'>> {
  const { live } = options;
  const { spec } = pipeline;
  // `start` runs tumbling-window pipelines only (`startPipeline`): they have a result table.
  const table = spec.sink!.table;
  const queries = checked
    ? sampleQueries(table)
    : [{ title: `Every row of ${table}`, sql: resultTableSql(pipeline) }];
  const results = await timings.timed('query', () =>
    queryResults({ s3: session.clients.s3, bucket: session.bucket, cache: options.keep }, [
      ...queries.map((q) => q.sql),
      ...(checked ? [perPageCheckSql(table), perWindowCheckSql(table)] : []),
    ]),
  );
  const answers = queries.map((q, i) => ({ title: q.title, result: results[i] as QueryResult }));
  for (const { title, result } of answers) live.print(`\n${title}\n${formatResult(result, options.format)}`);
  const bounds = Object.entries(spec.errorBounds);
  if (bounds.length > 0) {
    const lines = bounds.map(([column, bound]) => `  ${column}: ${bound}`);
    live.print(`\nError bounds of the approximate columns of ${table}:\n${lines.join('\n')}`);
  }
  const mismatches = checked
    ? checkAnswers(
        totals,
        results[queries.length] as QueryResult,
        results[queries.length + 1] as QueryResult,
        counts,
      )
    : [];
  return { answers, mismatches };
}

/**
 * `npm start`: synthesizes the CDK app, starts the embedded cloud, deploys the stack, streams a
 * generated clickstream through it, closes every window at the end of input, and answers sample SQL
 * queries over the Parquet results, checking them against the generator's known totals.
 */
export async function runStart(options: StartOptions): Promise<StartReport> {
  const { live } = options;
  const { pipeline, checked, context } = startPipeline(options);
  const timings = new StepTimings();
  const session = await deploy(options, context, timings);
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => (cleaning ??= session.stop());
  // Ctrl-C mid-run: stop the emulators and remove the assembly instead of leaving them behind.
  const interrupted = (): void => {
    live.done();
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    live.print(
      `local cloud at ${session.cloud.endpoint}; stack deployed (bucket ${session.bucket}, table ${session.stateTable})`,
    );
    const dataset = startClickstream(pipeline.spec, options.events, options.seed);
    const counts = await streamClickstream(session, pipeline, dataset, options, timings);
    const { answers, mismatches } = await answer(
      session,
      pipeline,
      checked,
      dataset.totals,
      counts,
      options,
      timings,
    );
    timings.total();
    if (!options.keep) await cleanup();
    return {
      totals: dataset.totals,
      counts,
      answers,
      mismatches,
      checked,
      timingsMs: timings.ms,
      pipeline,
      table: pipeline.spec.sink!.table,
      session,
      stop: cleanup,
    };
  } catch (error) {
    live.done();
    await cleanup();
    throw error;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}
