import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { pageActivity } from '../../../functions/pipelines';
import { generateClickstream, toJsonLines } from '../../generator/clickstream';
import { cliAction, positiveInteger } from './cliAction';

interface GenerateOptions {
  readonly events: number;
  readonly seed: number;
  readonly output?: string;
  readonly totals?: string;
}

/** `shardflow generate`: the `npm start` clickstream as a JSON Lines file, for `send` and `run`. */
export function registerGenerateCommands(program: Command): void {
  program
    .command('generate')
    .description(
      'Write the reproducible clickstream that npm start uses (skew, out-of-order, late, duplicate and malformed records) as JSON Lines',
    )
    .option('-n, --events <n>', 'distinct events', positiveInteger('--events'), 3000)
    .option('--seed <n>', 'generator seed', positiveInteger('--seed'), 1)
    .option('-o, --output <file>', 'JSON Lines file (default: stdout)')
    .option('--totals <file>', 'also write the known answers (per page, per minute, injected counts) as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  $ shardflow generate --events 500 -o clicks.jsonl && shardflow run page-activity --input clicks.jsonl --in-memory',
    )
    .action(
      cliAction(async (options: GenerateOptions) => {
        const spec = pageActivity.spec;
        const windowMs = spec.window?.kind === 'tumbling' ? spec.window.sizeMs : 60_000;
        const { records, totals } = generateClickstream({
          events: options.events,
          seed: options.seed,
          windowMs,
          maxOutOfOrdernessMs: spec.time.maxOutOfOrdernessMs,
          allowedLatenessMs: spec.time.allowedLatenessMs,
        });
        const text = toJsonLines(records);
        if (options.output === undefined) process.stdout.write(text);
        else await writeFile(options.output, text);
        if (options.totals !== undefined)
          await writeFile(options.totals, `${JSON.stringify(totals, null, 2)}\n`);
        process.stderr.write(
          `${records.length} records (${options.events} events, ${totals.injected.duplicates} duplicates, ${totals.injected.malformed} malformed, ${totals.injected.late} late)\n`,
        );
      }),
    );
}
