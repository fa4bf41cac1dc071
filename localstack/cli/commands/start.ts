import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_EDGE_PORT } from '../../emulators/constants';
import { OUTPUT_FORMATS, type OutputFormat } from '../../query/types';
import { createLiveLine } from '../../start/liveLine';
import { keepCloudRunning } from '../../start/keepCloud';
import { runStart } from '../../start/runStart';
import { cliAction, CommandFailedError, positiveInteger, positiveNumber } from './cliAction';
import { parsePort } from './local';

interface StartCommandOptions {
  readonly events: number;
  readonly rate?: number;
  readonly seed: number;
  readonly keep?: boolean;
  readonly port?: number;
  readonly format: OutputFormat;
  readonly template?: string;
  readonly verbose?: boolean;
}

/** Default event count: the whole run stays well under 3 minutes on 2 cores. */
export const DEFAULT_START_EVENTS = 3000;

/** `shardflow start` (`npm start`): the default pipeline end to end on the embedded local cloud. */
export function registerStartCommands(program: Command): void {
  program
    .command('start')
    .description(
      'Run a pipeline end to end on the embedded local cloud: synth, deploy, stream a generated clickstream, close all windows, answer sample SQL queries',
    )
    .argument(
      '[pipeline]',
      "a shipped pipeline's name or a pipeline module path (default: page-activity, whose answers are checked against the generator's totals)",
    )
    .option(
      '-n, --events <n>',
      'distinct events to generate',
      positiveInteger('--events'),
      DEFAULT_START_EVENTS,
    )
    .option(
      '-r, --rate <records/s>',
      'records per second (default: as fast as the stream accepts)',
      positiveNumber('--rate', { min: 0.001 }),
    )
    .option('--seed <n>', 'generator seed (same seed, same data, same answers)', positiveInteger('--seed'), 1)
    .option(
      '--keep',
      'leave the local cloud and the deployment running after the answers (Ctrl-C stops them)',
    )
    .option(
      '--port <port>',
      `edge port with --keep (default ${DEFAULT_EDGE_PORT}; otherwise a free port)`,
      parsePort,
    )
    .addOption(
      new Option('-f, --format <format>', 'format of the printed answers')
        .choices(OUTPUT_FORMATS)
        .default('table'),
    )
    .option('--template <path>', 'deploy this synthesized template instead of running cdk synth')
    .option('-v, --verbose', 'print the local cloud, deployer and runtime logs')
    .addHelpText(
      'after',
      '\nExamples:\n  $ npm start\n  $ npm start -- --events 20000 --rate 2000 --keep\n  $ npx shardflow start pipelines/pageClicks.ts',
    )
    .action(
      cliAction(async (pipeline: string | undefined, options: StartCommandOptions) => {
        const live = createLiveLine();
        const keep = options.keep === true;
        const report = await runStart({
          events: options.events,
          seed: options.seed,
          ...(options.rate !== undefined ? { rate: options.rate } : {}),
          keep,
          edgePort: keep ? (options.port ?? DEFAULT_EDGE_PORT) : 0,
          format: options.format,
          ...(options.template !== undefined ? { templatePath: resolve(options.template) } : {}),
          live,
          verbose: options.verbose === true,
          ...(pipeline !== undefined ? { pipeline } : {}),
        });
        const { counts, totals, timingsMs } = report;
        live.print(
          `\n${counts.windowsEmitted} windows emitted; ${counts.rejected} records rejected, ${counts.late} late ` +
            `(injected: ${totals.injected.malformed} malformed, ${totals.injected.late} late, ${totals.injected.duplicates} duplicates)`,
        );
        live.print(
          `timings: ${Object.entries(timingsMs)
            .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
            .join(', ')}`,
        );
        if (report.mismatches.length > 0) {
          for (const m of report.mismatches.slice(0, 10)) live.print(`  ✗ ${m}`);
          await report.stop();
          throw new CommandFailedError(
            `${report.mismatches.length} answers differ from the generator's known totals`,
          );
        }
        live.print(
          report.checked
            ? "✓ every answer matches the generator's known totals (per page, per minute, rejected and late counts)"
            : `${report.table}'s rows are above (answers are checked against the generator only for page-activity)`,
        );
        if (!keep) return;
        await keepCloudRunning(report.session, 'start', report.pipeline, (line) => live.print(line), [
          ...(pipeline === undefined ? [] : [pipeline]),
        ]);
        await report.stop();
      }),
    );
}
