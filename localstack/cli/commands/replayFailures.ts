import type { Command } from 'commander';
import {
  replayFailedBatches,
  type FailedBatchOutcome,
  type ReplayTarget,
} from '../../../functions/adapters/replayFailedBatches';
import { deployedShippedPipelines, loadPipeline } from '../../start/loadPipeline';
import {
  assertLocalCloudRunning,
  localClients,
  localEndpoint,
  readOutputs,
  resolveResultsBucket,
} from '../../start/localTarget';
import { deployedStream, resolveStateTable } from '../../start/pipelineStatus';
import { PIPELINE_OUTPUTS } from '../../../lib/outputNames';
import { ShardflowCliError } from '../../start/errors';
import { cliAction } from './cliAction';

interface ReplayFailuresOptions {
  readonly pipeline?: string;
  readonly failurePrefix?: string;
  readonly bucket?: string;
  readonly stateTable?: string;
  readonly dryRun?: boolean;
}

/** The one line printed for a batch. */
export function describeOutcome(outcome: FailedBatchOutcome): string {
  const { batch } = outcome;
  const where = `${outcome.pipeline} ${batch.shardId} ${batch.firstSequence}..${batch.lastSequence}`;
  if (outcome.error !== undefined) return `${where}: not replayed: ${outcome.error}`;
  if (outcome.replay === undefined)
    return `${where}: ${outcome.recordsRead ?? 0} records in the stream (dry run: nothing applied)`;
  const { replay } = outcome;
  const applied = replay.applied;
  return (
    `${where}: ${replay.records} records, ${replay.alreadyApplied} already applied, ` +
    `${applied.recordsIn - applied.duplicates} applied as ${replay.replayShard} ` +
    `(${applied.rejected} rejected, ${applied.late} late, ${applied.duplicateEvents} duplicate events); ` +
    `record moved to ${outcome.movedTo ?? '?'}`
  );
}

/** `shardflow replay-failures`: applies the batches Lambda skipped after their retries, exactly once. */
export function registerReplayFailuresCommands(program: Command): void {
  program
    .command('replay-failures')
    .description(
      'Replay the batches the operator skipped after its retries (on-failure records under aws/lambda/<mapping>/): ' +
        'the records no commit applied are applied once, then each record moves to failed-batches/replayed/',
    )
    .option(
      '-p, --pipeline <name or module>',
      'only this pipeline: a shipped name or a pipeline module path (default: the shipped pipelines the deployment has)',
    )
    .option(
      '--failure-prefix <prefix>',
      "the mapping's on-failure prefix, aws/lambda/<mapping uuid>/ (default: the deployment's FailurePrefix<Pipeline> output; needs --pipeline)",
    )
    .option('-b, --bucket <bucket>', "results bucket (default: the deployment's ResultsBucketName output)")
    .option('--state-table <table>', "state table (default: the deployment's StateTableName output)")
    .option('--dry-run', 'list the skipped batches and read them back from the stream, change nothing')
    .action(
      cliAction(async (options: ReplayFailuresOptions) => {
        if (options.failurePrefix !== undefined && options.pipeline === undefined)
          throw new ShardflowCliError('--failure-prefix names one mapping: give --pipeline as well');
        if (options.failurePrefix !== undefined && !/^aws\/lambda\/[^/]+\/$/.test(options.failurePrefix))
          throw new ShardflowCliError(
            `--failure-prefix must look like aws/lambda/<mapping uuid>/ (given ${options.failurePrefix})`,
          );
        const chosen =
          options.pipeline === undefined
            ? deployedShippedPipelines(
                readOutputs(),
                'npx shardflow replay-failures --pipeline pipelines/<module>.ts',
              )
            : [loadPipeline(options.pipeline)];
        const endpoint = await localEndpoint();
        const clients = localClients(endpoint);
        await assertLocalCloudRunning(clients, endpoint);
        const bucket = await resolveResultsBucket(clients, options.bucket);
        const stateTable = options.stateTable ?? (await resolveStateTable(clients));
        const outputs = readOutputs() ?? {};
        const targets: ReplayTarget[] = chosen.map((pipeline) => {
          const prefixOutput = PIPELINE_OUTPUTS.failurePrefix(pipeline.spec.name);
          const failurePrefix = options.failurePrefix ?? outputs[prefixOutput];
          if (failurePrefix === undefined)
            throw new ShardflowCliError(
              `The deployment outputs name no ${prefixOutput}: redeploy, or pass --pipeline ${pipeline.spec.name} --failure-prefix aws/lambda/<mapping uuid>/`,
            );
          return {
            pipeline,
            stream: deployedStream(pipeline.spec, outputs),
            failurePrefix,
          };
        });
        const { outcomes, unreadable } = await replayFailedBatches(targets, {
          s3: clients.s3,
          kinesis: clients.kinesis,
          dynamoDbStreams: clients.dynamoDbStreams,
          dynamoDb: clients.dynamoDb,
          bucket,
          stateTable,
          dryRun: options.dryRun === true,
          onBatch: (outcome) => process.stdout.write(`${describeOutcome(outcome)}\n`),
        });
        for (const object of unreadable) process.stdout.write(`${object.key}: skipped: ${object.reason}\n`);
        const failed = outcomes.filter((o) => o.error !== undefined).length;
        const done = outcomes.length - failed;
        process.stdout.write(
          outcomes.length === 0
            ? 'No skipped batches to replay.\n'
            : `${done} of ${outcomes.length} skipped batches ${options.dryRun === true ? 'readable' : 'replayed'}.\n`,
        );
        const problems = [
          ...(failed > 0
            ? [
                `${failed} skipped batches were not replayed (their records stay in place; run again once the cause is fixed)`,
              ]
            : []),
          // They count in FailedBatchesPending like skipped batches, so its alarm stays on until they go.
          ...(unreadable.length > 0
            ? [
                `${unreadable.length} objects under the on-failure prefix are not Lambda on-failure records (listed above) and keep FailedBatchesPending raised: remove them once inspected`,
              ]
            : []),
        ];
        if (problems.length > 0) throw new ShardflowCliError(problems.join('; '));
      }),
    );
}
