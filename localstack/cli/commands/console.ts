import type { Command } from 'commander';
import { DEFAULT_CONSOLE_PORT, DEFAULT_SAMPLE_INTERVAL_MS, openConsole } from '../../console';
import { deployedShippedPipelines, loadPipeline } from '../../start/loadPipeline';
import {
  assertLocalCloudRunning,
  localClients,
  localTarget,
  readOutputs,
  resolveResultsBucket,
} from '../../start/localTarget';
import { deployedStream, resolveStateTable } from '../../start/pipelineStatus';
import { untilInterrupted } from '../interrupted';
import { cliAction, positiveNumber } from './cliAction';
import { parsePort } from './local';

interface ConsoleCommandOptions {
  readonly port?: number;
  readonly interval: number;
  readonly bucket?: string;
}

/** `shardflow console`: the local web console of the pipelines deployed on the local cloud. */
export function registerConsoleCommands(program: Command): void {
  program
    .command('console')
    .description(
      'Serve a local web page that shows the deployed pipelines running: graph with per-stage counts, per-shard backlog, iterator age and watermarks over time, windows, newest results and rejected records',
    )
    .argument(
      '[pipelines...]',
      'pipelines to show, each a shipped name or a pipeline module path (default: the shipped ones the deployment has)',
    )
    .option(
      '-p, --port <port>',
      `port on 127.0.0.1 (default ${DEFAULT_CONSOLE_PORT}, or a free one when that is taken; 0 picks a free one)`,
      parsePort,
    )
    .option(
      '-i, --interval <seconds>',
      'seconds between two reads of the cloud (each read is one status call, whatever the number of browsers)',
      positiveNumber('--interval', { max: 86_400 }),
      DEFAULT_SAMPLE_INTERVAL_MS / 1000,
    )
    .option('-b, --bucket <bucket>', "results bucket (default: the deployment's ResultsBucketName output)")
    .addHelpText(
      'after',
      '\nThe page listens on 127.0.0.1 only and refreshes itself; Ctrl-C stops it.\n\nExamples:\n  $ npm start -- --keep                 # in one terminal: a cloud with the stack and a run (prints the console URL)\n  $ npx shardflow console               # in another: open the printed URL\n  $ npx shardflow console pipelines/orders.ts --port 0',
    )
    .action(
      cliAction(async (names: string[], options: ConsoleCommandOptions) => {
        const chosen =
          names.length === 0
            ? deployedShippedPipelines(readOutputs(), 'npx shardflow console pipelines/<module>.ts')
            : names.map((name) => loadPipeline(name));
        const { endpoint } = await localTarget();
        const clients = localClients(endpoint);
        await assertLocalCloudRunning(clients, endpoint);
        const bucket = await resolveResultsBucket(clients, options.bucket);
        const stateTable = await resolveStateTable(clients);
        const outputs = readOutputs() ?? {};
        const running = await openConsole(
          {
            endpoint,
            clients,
            bucket,
            stateTable,
            pipelines: chosen.map((pipeline) => ({
              pipeline,
              stream: deployedStream(pipeline.spec, outputs),
            })),
          },
          {
            port: options.port ?? DEFAULT_CONSOLE_PORT,
            fallbackToFreePort: options.port === undefined,
            intervalMs: options.interval * 1000,
          },
        );
        const stopped = untilInterrupted();
        process.stdout.write(`shardflow console at ${running.url} (cloud ${endpoint}); Ctrl-C stops it\n`);
        await stopped;
        await running.close();
      }),
    );
}
