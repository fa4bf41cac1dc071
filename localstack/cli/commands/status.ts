import type { Command } from 'commander';
import { deployedShippedPipelines, loadPipeline } from '../../start/loadPipeline';
import { formatResult } from '../../query/format';
import { timestampText } from '../../start/boundedRun';
import {
  assertLocalCloudRunning,
  localClients,
  localTarget,
  readOutputs,
  resolveResultsBucket,
} from '../../start/localTarget';
import {
  deployedStream,
  readPipelineStatus,
  resolveStateTable,
  type PipelineStatus,
} from '../../start/pipelineStatus';
import { cliAction } from './cliAction';

function time(ms: number | null): string {
  if (ms === null) return '-';
  // The end-of-input watermark is stored as the largest safe integer, beyond what a Date can hold.
  if (ms >= 8.64e15) return '+∞ (end of input)';
  if (ms <= -8.64e15) return '-∞';
  return timestampText(ms);
}

/** Text of a pipeline's status, as `shardflow status` prints it. */
export function describeStatus(status: PipelineStatus): string {
  const shards = formatResult(
    {
      columns: ['shard', 'pending_records', 'iterator_age_ms', 'watermark', 'last_activity'].map((name) => ({
        name,
        type: '',
      })),
      rows: status.shards.map((s) => [
        s.shardId,
        s.pendingRecords,
        s.iteratorAgeMs,
        time(s.watermark),
        time(s.lastActivity),
      ]),
    },
    'table',
  );
  return [
    `pipeline ${status.pipeline} (stream ${status.stream})`,
    `  closed up to ${time(status.closedWatermark)}; ${status.openWindows} windows open`,
    `  ${status.taken.records} records in: ${status.taken.rejected} rejected, ${status.taken.late} late, ${status.taken.duplicates} duplicates dropped; ${status.counts.windowsEmitted} windows emitted`,
    shards.replace(/^/gm, '  '),
  ].join('\n');
}

/** `shardflow status`: progress of the pipelines deployed on the local cloud. */
export function registerStatusCommands(program: Command): void {
  program
    .command('status')
    .description(
      'Per-shard backlog and iterator age, watermarks, open windows and rejected/late counts of the deployed pipelines',
    )
    .argument(
      '[pipelines...]',
      'pipelines to report, each a shipped name or a pipeline module path (default: the shipped ones the deployment has)',
    )
    .option('-b, --bucket <bucket>', "results bucket (default: the deployment's ResultsBucketName output)")
    .option('-v, --verbose', 'say which cloud, bucket and state table it reads')
    .action(
      cliAction(
        async (names: string[], options: { readonly bucket?: string; readonly verbose?: boolean }) => {
          const chosen =
            names.length === 0
              ? deployedShippedPipelines(readOutputs(), 'npx shardflow status pipelines/<module>.ts')
              : names.map((name) => loadPipeline(name));
          const { endpoint, source } = await localTarget();
          const clients = localClients(endpoint);
          await assertLocalCloudRunning(clients, endpoint);
          const bucket = await resolveResultsBucket(clients, options.bucket);
          const stateTable = await resolveStateTable(clients);
          if (options.verbose === true)
            process.stderr.write(
              `cloud ${endpoint} (from ${source}); results bucket ${bucket}, state table ${stateTable}\n`,
            );
          const outputs = readOutputs() ?? {};
          for (const pipeline of chosen) {
            const spec = pipeline.spec;
            const stream = deployedStream(spec, outputs);
            process.stdout.write(
              `${describeStatus(await readPipelineStatus(clients, spec, { stateTable, bucket, stream }))}\n`,
            );
          }
        },
      ),
    );
}
