import { paginateListStreams } from '@aws-sdk/client-kinesis';
import { NotRunningError } from '../../start/errors';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { assertKeyFieldUsed, readInputFile } from '../../start/inputFile';
import { assertLocalCloudRunning, localClients, localEndpoint } from '../../start/localTarget';
import { sendRecords, type SendProgress } from '../../start/sendRecords';
import { cliAction, positiveNumber } from './cliAction';

interface SendOptions {
  readonly stream: string;
  readonly key?: string;
  readonly rate?: number;
}

/**
 * Progress for a terminal (a cli-progress bar) or for logs and pipes (a plain line at most every
 * two seconds and at the end).
 */
export function progressReporter(
  total: number,
  label: string,
): { update(p: SendProgress): void; stop(): void } {
  if (process.stdout.isTTY === true) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} records | {percentage}% | ETA {eta}s`,
    });
    bar.start(total, 0);
    let active = true;
    return {
      update: (p) => bar.update(p.sent),
      stop: () => {
        if (active) bar.stop();
        active = false;
      },
    };
  }
  let last = 0;
  return {
    update: (p) => {
      const now = performance.now();
      if (now - last < 2_000 && p.sent < p.total) return;
      last = now;
      process.stdout.write(
        `${label}: ${p.sent}/${p.total} records${p.retried > 0 ? ` (${p.retried} retried)` : ''}\n`,
      );
    },
    stop: () => {},
  };
}

/** `shardflow send <file> --stream S`: puts a JSON Lines, CSV or Parquet file on a Kinesis stream. */
export function registerSendCommands(program: Command): void {
  program
    .command('send')
    .description(
      'Put the records of a JSON Lines, CSV or Parquet file on a Kinesis stream (PutRecords, batched, retried)',
    )
    .argument(
      '<file>',
      'input file: .jsonl/.ndjson/.json (one record per line), .csv (header row) or .parquet',
    )
    .requiredOption('-s, --stream <stream>', 'stream name or ARN')
    .option('-k, --key <field>', 'record field used as the partition key (default: one key per record)')
    .option(
      '-r, --rate <records/s>',
      'records per second (default: as fast as the stream accepts)',
      positiveNumber('--rate', { min: 0.001 }),
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ shardflow send clicks.jsonl --stream clickstream --key userId --rate 500',
    )
    .action(
      cliAction(async (file: string, options: SendOptions) => {
        const records = await readInputFile(file, options.key);
        if (options.key !== undefined) assertKeyFieldUsed(records, options.key, file);
        const endpoint = await localEndpoint();
        const clients = localClients(endpoint);
        await assertLocalCloudRunning(clients, endpoint);
        if (!options.stream.startsWith('arn:')) {
          const streams: string[] = [];
          for await (const page of paginateListStreams({ client: clients.kinesis }, {}))
            streams.push(...(page.StreamNames ?? []));
          if (!streams.includes(options.stream))
            throw new NotRunningError(
              `Stream ${options.stream} not found at ${endpoint}; ${streams.length === 0 ? 'no streams: deploy the stack with "npx shardflow deploy --local"' : `streams: ${streams.join(', ')}`}`,
            );
        }
        const progress = progressReporter(records.length, `send ${options.stream}`);
        try {
          const result = await sendRecords(records, {
            kinesis: clients.kinesis,
            stream: options.stream,
            ...(options.rate !== undefined ? { rate: options.rate } : {}),
            onProgress: (p) => progress.update(p),
          });
          progress.stop();
          process.stdout.write(
            `sent ${result.sent} records to ${options.stream}${result.retried > 0 ? ` (${result.retried} retried)` : ''}\n`,
          );
        } finally {
          progress.stop();
        }
      }),
    );
}
