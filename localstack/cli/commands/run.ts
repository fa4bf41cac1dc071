import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { defaultPipelines } from '../../../functions/pipelines';
import { formatResult, OUTPUT_FORMATS, type OutputFormat } from '../../query';
import { queryResults } from '../../query/queryResults';
import { BucketCounter } from '../../start/bucketCounters';
import { resultTableSql, runInMemory } from '../../start/boundedRun';
import { createLiveLine } from '../../start/liveLine';
import { loadPipeline, UnknownPipelineError } from '../../start/loadPipeline';
import { localClients, localEndpoint } from '../../start/localTarget';
import { openLocalSession } from '../../start/localSession';
import { readRunInput } from '../../start/runInput';
import { sendRecords } from '../../start/sendRecords';
import { synthesizeCached } from '../../start/synthesize';
import { KINESIS_EMULATORS, type KinesisEmulatorKind } from '../../emulators';
import { drainTimeout } from '../../start/runStart';
import { cliAction } from './cliAction';

interface RunOptions {
  readonly input: string;
  readonly inMemory?: boolean;
  readonly key?: string;
  readonly format: OutputFormat;
  readonly template?: string;
  readonly kinesis: KinesisEmulatorKind;
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
    .requiredOption(
      '-i, --input <file|s3://bucket/prefix>',
      'JSON Lines, CSV or Parquet file, or an S3 prefix of such objects',
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
    .addHelpText(
      'after',
      '\nExamples:\n  $ shardflow run page-activity --input clicks.jsonl --in-memory\n  $ shardflow run page-activity --input clicks.jsonl',
    )
    .action(
      cliAction(async (name: string, options: RunOptions) => {
        const pipeline = loadPipeline(name);
        const keyField = options.key ?? 'userId';
        const s3 = options.input.startsWith('s3://') ? localClients(await localEndpoint()).s3 : undefined;
        const records = await readRunInput(options.input, keyField, s3);
        if (options.inMemory === true) {
          const { result, rejected, late } = runInMemory(pipeline, records, Date.now());
          process.stdout.write(`${formatResult(result, options.format)}\n`);
          process.stderr.write(
            `${records.length} records: ${result.rows.length} rows, ${rejected} rejected, ${late} late\n`,
          );
          return;
        }
        if (!defaultPipelines.some((p) => p.spec.name === pipeline.spec.name)) {
          throw new UnknownPipelineError(
            `Pipeline ${pipeline.spec.name} is not in the CDK app (it deploys ${defaultPipelines.map((p) => p.spec.name).join(', ')}): use --in-memory, or add it to functions/pipelines/index.ts`,
          );
        }
        const live = createLiveLine(process.stderr);
        let template = options.template === undefined ? undefined : resolve(options.template);
        if (template === undefined) {
          live.update('synthesizing the CDK app…');
          const app = await synthesizeCached();
          if (app.cached)
            live.print('synth skipped: the app and its inputs have not changed since the last one');
          template = app.templatePath;
        }
        live.update(`starting the local cloud (Kinesis: ${options.kinesis}) and deploying the stack…`);
        const session = await openLocalSession({ templatePath: template, kinesisEmulator: options.kinesis });
        try {
          const stream = session.streamOf(pipeline.spec);
          const head = records.slice(0, WARM_UP_RECORDS);
          const progress = (sent: number): void =>
            live.update(`sent ${sent}/${records.length} records to ${stream}`);
          await session.guard(
            (async () => {
              await sendRecords(head, {
                kinesis: session.clients.kinesis,
                stream,
                onProgress: (p) => progress(p.sent),
              });
              await session.app.runtime.idle(drainTimeout(records.length));
              await sendRecords(records.slice(head.length), {
                kinesis: session.clients.kinesis,
                stream,
                onProgress: (p) => progress(head.length + p.sent),
              });
              live.update('end of input: closing every window…');
              await session.endOfInput(pipeline.spec, drainTimeout(records.length));
            })(),
          );
          live.done();
          const [result] = await queryResults({ s3: session.clients.s3, bucket: session.bucket }, [
            resultTableSql(pipeline),
          ]);
          const counts = await new BucketCounter(session.clients.s3, session.bucket).counts();
          if (result !== undefined) process.stdout.write(`${formatResult(result, options.format)}\n`);
          process.stderr.write(
            `${records.length} records: ${result?.rows.length ?? 0} rows, ${counts.rejected} rejected, ${counts.late} late\n`,
          );
        } finally {
          await session.stop();
        }
      }),
    );
}
