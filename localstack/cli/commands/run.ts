import type { AwsClients } from '../../../functions/adapters/aws';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { formatResult, OUTPUT_FORMATS, type OutputFormat } from '../../query';
import { queryResults } from '../../query/queryResults';
import { resultTableSql, runInMemory } from '../../start/boundedRun';
import { ResultDeadLetterCounter } from '../../start/bucketCounters';
import { rejectedResultsPrefix } from '../../../functions/core/state/paths';
import type { CompiledPipeline } from '../../../functions/core/engine/CompiledPipeline';
import { createLiveLine } from '../../start/liveLine';
import { loadStages, synthContext, UnknownPipelineError } from '../../start/loadPipeline';
import { assertLocalCloudRunning, localClients, localEndpoint } from '../../start/localTarget';
import { openLocalSession, type LocalSession } from '../../start/localSession';
import { applyTableChanges, readChangeFile, tableKey } from '../../start/applyTableChanges';
import { assertKeyFieldUsed, type InputRecord } from '../../start/inputFile';
import type { PipelineSpec } from '../../../functions/core/types';
import { readRunInput } from '../../start/runInput';
import { sendRecords } from '../../start/sendRecords';
import { synthesizeCached } from '../../start/synthesize';
import { KINESIS_EMULATORS, type KinesisEmulatorKind } from '../../emulators';
import { drainTimeout } from '../../start/runStart';
import { followSession } from '../../start/sessionProgress';
import { keepCloudRunning } from '../../start/keepCloud';
import { DEFAULT_EDGE_PORT } from '../../emulators/constants';
import { cliAction } from './cliAction';
import { parsePort } from './local';

interface RunOptions {
  readonly input: string;
  readonly inMemory?: boolean;
  readonly key?: string;
  readonly format: OutputFormat;
  readonly template?: string;
  readonly kinesis: KinesisEmulatorKind;
  readonly keep?: boolean;
  readonly port?: number;
}

/** Records sent before the bulk so every shard reports progress first (see `runStart`). */
const WARM_UP_RECORDS = 50;

/** `shardflow run <pipeline> --input <file|s3://…>`: bounded replay, in memory or through the deployed stack. */
export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description(
      'Run a pipeline over bounded input and print its result rows; every window closes at the end of input',
    )
    .argument('<pipeline>', 'a shipped pipeline name (e.g. page-activity) or a .ts file exporting a pipeline')
    .argument(
      '[stages...]',
      "pipeline modules reading what the one before publishes (toStream), deployed in the same stack; the rows printed are the last one's",
    )
    .requiredOption(
      '-i, --input <file|s3://bucket/prefix>',
      'JSON Lines, CSV or Parquet file, or an S3 prefix of such objects; for a table source (fromTable), a change file: JSON Lines of {"put": {item}} / {"delete": {key}} applied to the table in order',
    )
    .option(
      '--in-memory',
      'run in this process with the bounded runner instead of through the stack on the local cloud',
    )
    .option(
      '-k, --key <field>',
      'record field used as the Kinesis partition key (default: userId, else one key per record)',
    )
    .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('--template <path>', 'deploy this synthesized template instead of running cdk synth')
    .addOption(
      new Option(
        '--kinesis <engine>',
        "Kinesis engine of the local cloud: kinesalite (fast at any input size) or kinesis-mock (LocalStack's engine; its PutRecords slows down as a shard fills, ~50 records/s past 10,000)",
      )
        .choices(Object.values(KINESIS_EMULATORS))
        .default(KINESIS_EMULATORS.KINESALITE),
    )
    .option(
      '-p, --port <port>',
      `edge port with --keep (default ${DEFAULT_EDGE_PORT}; otherwise a free port)`,
      parsePort,
    )
    .option(
      '--keep',
      'keep the local cloud running after the run, for `shardflow query` and `status` (Ctrl-C stops it)',
    )
    .addHelpText(
      'after',
      '\nThe summary on stderr adds up to the input: lines = blank lines + records in; records in = rejected +\nlate + producer duplicates dropped + records that reached window state (or that a filter dropped).\nA stage that publishes its result rows (sink toStream) adds a line: its rows over 1 MiB, not published, and\nwhere their dead letters are (rejected-results/<table>/). A stage that only publishes (ends at toStream) shows\nthe values it published instead, which a flatMap or a filter makes differ from its records in.\n\nExamples:\n  $ shardflow run page-activity --input clicks.jsonl --in-memory\n  $ shardflow run page-activity --input clicks.jsonl --keep',
    )
    .action(
      cliAction(async (name: string, later: string[], options: RunOptions) => {
        const stages = loadStages([name, ...later]);
        const pipeline = stages[0]!;
        const last = stages[stages.length - 1]!;
        const table = pipeline.spec.source.table === undefined ? undefined : pipeline.spec.source.stream;
        if (table !== undefined && options.inMemory === true)
          throw new UnknownPipelineError(
            `${pipeline.spec.name} reads table ${table}: its change file runs through the stack only (drop --in-memory)`,
          );
        const keyField = options.key ?? 'userId';
        const s3 = options.input.startsWith('s3://') ? await runningS3() : undefined;
        // A table source's input is a change file, checked now (but for the table's key, known once deployed).
        const changes = table === undefined ? undefined : await readChangeFile(options.input, undefined);
        const { records, blankLines } =
          changes === undefined
            ? await readRunInput(options.input, keyField, s3)
            : { records: [], blankLines: changes.blankLines };
        if (options.key !== undefined && changes === undefined)
          assertKeyFieldUsed(records, options.key, options.input);
        /** Records to send, or writes to apply. */
        const inputs = changes?.writes.length ?? records.length;
        if (options.inMemory === true) {
          if (options.keep === true)
            throw new UnknownPipelineError('--keep needs a run through the stack (drop --in-memory)');
          const arrival = Date.now();
          const first = await runInMemory(pipeline, records, arrival);
          let { result, published } = first;
          const laterLines: string[] = [];
          const inMemory = (stage: CompiledPipeline<unknown>, rows: number) =>
            stage.spec.sink === undefined
              ? undefined
              : deadLetterLine(
                  stage,
                  rows,
                  `not kept in memory (${rejectedResultsPrefix(stage.spec.sink.table)} through the stack)`,
                );
          const firstLetters = inMemory(pipeline, first.resultsDeadLettered);
          for (const stage of stages.slice(1)) {
            const next = await runInMemory(stage, published, arrival);
            laterLines.push(
              stageSummary(stage.spec, published.length, { ...next, published: next.published.length }),
            );
            const letters = inMemory(stage, next.resultsDeadLettered);
            if (letters !== undefined) laterLines.push(letters);
            ({ result, published } = next);
          }
          // A last stage that only publishes has no rows to print.
          if (last.spec.sink !== undefined) process.stdout.write(`${formatResult(result, options.format)}\n`);
          const { rejected, late, duplicates } = first;
          process.stderr.write(
            `${runSummary(pipeline.spec, { lines: records.length + blankLines, blankLines, records: records.length, rows: first.result.rows.length, rejected, late, duplicates, published: first.published.length })}\n`,
          );
          if (firstLetters !== undefined) process.stderr.write(`${firstLetters}\n`);
          for (const line of laterLines) process.stderr.write(`${line}\n`);
          return;
        }
        const context = synthContext(name, ...later);
        const live = createLiveLine(process.stderr);
        let template = options.template === undefined ? undefined : resolve(options.template);
        if (template === undefined) {
          live.update('synthesizing the CDK app…');
          const app = await synthesizeCached(process.cwd(), context);
          if (app.cached)
            live.print('synth skipped: the app and its inputs have not changed since the last one');
          template = app.templatePath;
        }
        live.update(`starting the local cloud (Kinesis: ${options.kinesis}) and deploying the stack…`);
        const keep = options.keep === true;
        const session = await openLocalSession({
          templatePath: template,
          kinesisEmulator: options.kinesis,
          ...(keep ? { edgePort: options.port ?? DEFAULT_EDGE_PORT } : {}),
        });
        try {
          const progress = followSession(session, live, inputs);
          try {
            await session.guard(
              (async () => {
                if (table === undefined) await sendStreamInput(session, pipeline.spec, records, progress);
                else {
                  // Applied as writes to the source table: its stream carries the changes to the pipeline.
                  const { dynamoDb } = session.clients;
                  const checked = await readChangeFile(options.input, await tableKey(dynamoDb, table));
                  await applyTableChanges(dynamoDb, table, checked, (n) => progress.sent(n));
                }
                // Stage by stage: a stage's last windows close once the one before has published everything.
                for (const stage of stages) await session.endOfInput(stage, drainTimeout(inputs));
              })(),
            );
          } finally {
            await progress.stop();
          }
          live.done();
          // The stages' result tables: one no window wrote to (every record rejected) has 0 rows, not no table.
          const declared = stages.flatMap(({ spec }) =>
            spec.sink === undefined ? [] : [{ name: spec.sink.table, columns: spec.columns }],
          );
          // The rows of a stage with a result table (one that only publishes has none).
          const rowsOf = async (stage: CompiledPipeline<unknown>) =>
            stage.spec.sink === undefined
              ? undefined
              : (
                  await queryResults(
                    { s3: session.clients.s3, bucket: session.bucket, cache: keep, declared },
                    [resultTableSql(stage)],
                  )
                )[0];
          const result = await rowsOf(last);
          const counts = await session.counts(pipeline);
          const firstRows = (stages.length === 1 ? result : await rowsOf(pipeline))?.rows.length ?? 0;
          // A stage that publishes its results: its rows too big for a record, dead-lettered in the bucket.
          const lettersOf = async (stage: CompiledPipeline<unknown>): Promise<string | undefined> => {
            if (stage.spec.sink?.toStream === undefined) return undefined;
            const letters = new ResultDeadLetterCounter(
              session.clients.s3,
              session.bucket,
              stage.spec.sink.table,
            );
            return deadLetterLine(stage, await letters.count(), letters.prefix);
          };
          const firstLetters = await lettersOf(pipeline);
          /** The summary lines of the stages after the first (`later` are their modules). */
          const laterLines: string[] = [];
          for (const stage of stages.slice(1)) {
            const c = await session.counts(stage);
            const rows = stage === last ? result : await rowsOf(stage);
            laterLines.push(
              stageSummary(stage.spec, c.records, {
                ...c,
                rows: rows?.rows.length ?? 0,
                published: c.published ?? 0,
              }),
            );
            const letters = await lettersOf(stage);
            if (letters !== undefined) laterLines.push(letters);
          }
          if (result !== undefined) process.stdout.write(`${formatResult(result, options.format)}\n`);
          process.stderr.write(
            `${runSummary(pipeline.spec, {
              lines: inputs + blankLines,
              blankLines,
              records: counts.records,
              rows: firstRows,
              rejected: counts.rejected,
              late: counts.late,
              duplicates: counts.duplicates,
              published: counts.published ?? 0,
            })}\n`,
          );
          if (firstLetters !== undefined) process.stderr.write(`${firstLetters}\n`);
          for (const line of laterLines) process.stderr.write(`${line}\n`);
          if (keep)
            await keepCloudRunning(session, 'run', pipeline, (line) => process.stderr.write(`${line}\n`), [
              name,
              ...later,
            ]);
        } finally {
          await session.stop();
        }
      }),
    );
}

/**
 * A stream source's input: the first records alone, so that every shard reports progress before the bulk
 * (see `runStart`), then the rest.
 */
async function sendStreamInput(
  session: LocalSession,
  spec: PipelineSpec,
  records: readonly InputRecord[],
  progress: { sent(count: number): void },
): Promise<void> {
  const stream = session.streamOf(spec);
  const head = records.slice(0, WARM_UP_RECORDS);
  const { kinesis } = session.clients;
  await sendRecords(head, { kinesis, stream, onProgress: (p) => progress.sent(p.sent) });
  await session.app.runtime.idle(drainTimeout(records.length));
  await sendRecords(records.slice(head.length), {
    kinesis,
    stream,
    onProgress: (p) => progress.sent(head.length + p.sent),
  });
}

/** What a bounded run did, as the one summary line both run modes print. */
export interface RunSummary {
  /** Lines (or rows) of the input: blank lines + records. */
  readonly lines: number;
  readonly blankLines: number;
  /** Records the pipeline took in. */
  readonly records: number;
  readonly rows: number;
  readonly rejected: number;
  readonly late: number;
  readonly duplicates: number;
  /** Values the pipeline published (`.toStream()`), each once. */
  readonly published: number;
}

/**
 * `1,000 lines: 2 blank, 998 records in → 12 rows; 3 rejected, 1 late, 4 duplicates dropped`; for a pipeline
 * that only publishes (no windows, so nothing late, and no dedupe state: the stage reading its stream drops
 * duplicates) `1,000 lines: 2 blank, 998 records in → 995 published to sessions; 3 rejected`.
 */
export function runSummary(spec: PipelineSpec, s: RunSummary): string {
  return `${s.lines} lines: ${s.blankLines} blank, ${s.records} records in → ${outcome(spec, s)}`;
}

/** What a stage made of its records: rows and their side outputs, or (publish-only) what it published. */
function outcome(
  spec: PipelineSpec,
  s: Pick<RunSummary, 'rows' | 'rejected' | 'late' | 'duplicates' | 'published'>,
): string {
  if (spec.sink === undefined)
    return `${s.published} published to ${spec.publish?.stream ?? '(none)'}; ${s.rejected} rejected`;
  return `${s.rows} rows; ${s.rejected} rejected, ${s.late} late, ${s.duplicates} duplicates dropped`;
}

/** One line per later stage: what it read from the stream the stage before publishes to, and what it made. */
function stageSummary(
  spec: PipelineSpec,
  records: number,
  counts: {
    readonly rejected: number;
    readonly late: number;
    readonly duplicates: number;
    readonly published: number;
    readonly rows?: number;
    readonly result?: { readonly rows: readonly unknown[] };
  },
): string {
  const rows = counts.rows ?? counts.result?.rows.length ?? 0;
  return `stage ${spec.name}: ${records} records in → ${outcome(spec, { ...counts, rows })}`;
}

/**
 * The summary line of a stage that publishes its result rows (`.sink({ toStream })`): how many were over the
 * Kinesis record limit, so not published, and where their dead letters are; none for a stage that does not.
 *
 * @example `page-minutes: 2 result rows over 1 MiB not published to minutes → rejected-results/page_minutes/`
 */
export function deadLetterLine(
  stage: Pick<CompiledPipeline<unknown>, 'spec'>,
  rows: number,
  where: string,
): string | undefined {
  const stream = stage.spec.sink?.toStream;
  if (stream === undefined) return undefined;
  return `${stage.spec.name}: ${rows} result ${rows === 1 ? 'row' : 'rows'} over 1 MiB not published to ${stream} → ${where}`;
}

/** The local cloud's S3 client, once the cloud answers (else the one-line "not running" error). */
async function runningS3(): Promise<AwsClients['s3']> {
  const endpoint = await localEndpoint();
  const clients = localClients(endpoint);
  await assertLocalCloudRunning(clients, endpoint);
  return clients.s3;
}
