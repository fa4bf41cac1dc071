import type { Command } from 'commander';
import { createClients, type AwsClients } from '../../../functions/adapters/aws';
import type { CompiledPipeline } from '../../../functions/core/engine/CompiledPipeline';
import type { UpgradeTarget } from '../../../functions/core/state/upgradeCheck';
import { defaultPipelines } from '../../../functions/pipelines';
import { ShardflowCliError } from '../../start/errors';
import { loadPipeline } from '../../start/loadPipeline';
import {
  assertLocalCloudRunning,
  localClients,
  localTarget,
  readOutputs,
  resolveResultsBucket,
} from '../../start/localTarget';
import { deployedStream, resolveStateTable, unpadSequence } from '../../start/pipelineStatus';
import { parseS3Url } from '../../start/runInput';
import {
  locationUrl,
  restoreSavepoint,
  savepointLocation,
  takeSavepoint,
  type SavepointLocation,
} from '../../start/savepoint';
import { cliAction } from './cliAction';

interface TargetOptions {
  readonly pipeline?: string;
  readonly local?: boolean;
  readonly stateTable?: string;
}

/** The clients, state table and (lazily) results bucket: the local cloud's with --local, else the deployed stack's. */
async function target(options: TargetOptions): Promise<{
  readonly clients: AwsClients;
  readonly stateTable: string;
  readonly bucket: () => Promise<string>;
}> {
  if (options.local === true) {
    const { endpoint } = await localTarget();
    const clients = localClients(endpoint);
    await assertLocalCloudRunning(clients, endpoint);
    return {
      clients,
      stateTable: options.stateTable ?? (await resolveStateTable(clients)),
      bucket: () => resolveResultsBucket(clients),
    };
  }
  const outputs = readOutputs() ?? {};
  const stateTable = options.stateTable ?? outputs.StateTableName;
  if (stateTable === undefined)
    throw new ShardflowCliError(
      'No state table recorded: deploy with "npx shardflow deploy" first, pass --state-table, or add --local for the local cloud',
    );
  return {
    clients: createClients(),
    stateTable,
    bucket: async () => {
      if (outputs.ResultsBucketName !== undefined) return outputs.ResultsBucketName;
      throw new ShardflowCliError('No results bucket recorded: pass --to s3://bucket/prefix');
    },
  };
}

/** The one pipeline `--pipeline` names, or the one the savepoint is of, or the only shipped one. */
function chosenPipeline(name: string | undefined, savedAs?: string): CompiledPipeline<unknown> {
  if (name !== undefined) return loadPipeline(name);
  const shipped = defaultPipelines.find((p) => p.spec.name === savedAs);
  if (shipped !== undefined) return shipped;
  if (savedAs !== undefined)
    throw new ShardflowCliError(
      `The savepoint is of pipeline ${savedAs}, which is not shipped: pass --pipeline <module path>`,
    );
  if (defaultPipelines.length === 1) return defaultPipelines[0]!;
  throw new ShardflowCliError(
    `Several pipelines are shipped (${defaultPipelines.map((p) => p.spec.name).join(', ')}): pass --pipeline`,
  );
}

function s3Location(url: string, flag: string): SavepointLocation {
  const parsed = url.startsWith('s3://') ? parseS3Url(url) : undefined;
  if (parsed === undefined)
    throw new ShardflowCliError(`${flag} must be an S3 URL, s3://bucket/prefix (given ${url})`);
  return savepointLocation(parsed.bucket, parsed.prefix);
}

const PIPELINE_HELP = 'a shipped name or a pipeline module path (default: the shipped pipeline)';
const LOCAL_HELP = 'use the local cloud ("shardflow local up") instead of the deployed stack';
const TABLE_HELP =
  "state table (default: the deployment's StateTableName output, or the local cloud's table)";

/** `shardflow savepoint` and `shardflow restore`. */
export function registerSavepointCommands(program: Command): void {
  program
    .command('savepoint')
    .description(
      "Write a pipeline's open state and shard positions to S3 as one consistent cut, with its definition's fingerprint",
    )
    .option('-p, --pipeline <name or module>', PIPELINE_HELP)
    .option(
      '--to <s3 url>',
      'where to write it (default: s3://<results bucket>/savepoints/<pipeline>/<time>/)',
    )
    .option('--local', LOCAL_HELP)
    .option('--state-table <table>', TABLE_HELP)
    .addHelpText(
      'after',
      '\nThe savepoint is manifest.json and state.jsonl.gz under the prefix; restore it with "shardflow restore --from <prefix>". It may be taken while the pipeline runs.',
    )
    .action(
      cliAction(async (options: TargetOptions & { readonly to?: string }) => {
        const definition = chosenPipeline(options.pipeline);
        const { clients, stateTable, bucket } = await target(options);
        const now = Date.now();
        const to =
          options.to !== undefined
            ? s3Location(options.to, '--to')
            : savepointLocation(
                await bucket(),
                `savepoints/${definition.spec.name}/${new Date(now).toISOString().replace(/[:.]/g, '-')}/`,
              );
        const manifest = await takeSavepoint({
          clients,
          stateTable,
          definition: definition as unknown as UpgradeTarget,
          stream: deployedStream(definition.spec, readOutputs() ?? {}),
          to,
          now,
        });
        const positions = manifest.shards
          .map((s) => `${s.shardId} at ${unpadSequence(s.lastSequence)}`)
          .join(', ');
        process.stdout.write(
          `savepoint of ${manifest.pipeline} written to ${locationUrl(to)}: ${manifest.items.count} items, ${manifest.openWindows} open windows, fingerprint ${manifest.definitionFingerprint}; ${positions || 'no shards'}\n`,
        );
      }),
    );

  program
    .command('restore')
    .description(
      "Load a savepoint into a pipeline's state table (a new stack, another table, or after a disaster); each shard resumes after its saved position",
    )
    .requiredOption('--from <s3 url>', 'the savepoint prefix "shardflow savepoint" printed')
    .option(
      '-p, --pipeline <name or module>',
      'the definition to restore under (default: the shipped pipeline the savepoint is of)',
    )
    .option('--local', LOCAL_HELP)
    .option('--state-table <table>', TABLE_HELP)
    .option(
      '--results-bucket <bucket>',
      "results bucket of a session pipeline (default: the deployment's ResultsBucketName output, or the local cloud's)",
    )
    .addHelpText(
      'after',
      '\nRefused when the table already holds state of the pipeline, or when the definition cannot read the saved open windows. Restore before the new mapping takes records (or with it disabled): records it delivers again from before the savepoint are skipped by the restored shard positions.',
    )
    .action(
      cliAction(
        async (options: TargetOptions & { readonly from: string; readonly resultsBucket?: string }) => {
          const from = s3Location(options.from, '--from');
          const { clients, stateTable, bucket } = await target(options);
          let shown = 0;
          const restored = await restoreSavepoint({
            clients,
            stateTable,
            // The savepoint names its pipeline: the shipped one of that name unless --pipeline gives one.
            targetFor: (savedAs) => {
              const definition = chosenPipeline(options.pipeline, savedAs);
              return {
                definition: definition as unknown as UpgradeTarget,
                stream: deployedStream(definition.spec, readOutputs() ?? {}),
              };
            },
            from,
            resultsBucket: async () => {
              if (options.resultsBucket !== undefined) return options.resultsBucket;
              try {
                return await bucket();
              } catch (error) {
                if (!(error instanceof ShardflowCliError)) throw error;
                throw new ShardflowCliError(
                  "No results bucket recorded: pass --results-bucket (a session pipeline's restore removes the session objects written after the savepoint)",
                );
              }
            },
            onProgress: (done, total) => {
              if (done === total || done - shown >= 500) {
                shown = done;
                process.stderr.write(`restoring: ${done} of ${total} items\n`);
              }
            },
          });
          const { manifest } = restored;
          const positions = manifest.shards
            .map((s) => `${s.shardId} after ${unpadSequence(s.lastSequence)}`)
            .join(', ');
          process.stdout.write(
            `restored ${manifest.pipeline} from ${locationUrl(from)} into ${stateTable}: ${restored.written} items written${restored.present > 0 ? `, ${restored.present} already there` : ''}; shards resume ${positions || '(none)'}; ` +
              `start the mapping at the trim horizon${manifest.resumeAt === null ? '' : ` or at a timestamp up to ${new Date(manifest.resumeAt).toISOString()}`}\n`,
          );
          if (restored.removed > 0)
            process.stdout.write(
              `removed ${restored.removed} session objects the lost table's close passes wrote after the savepoint (its restored passes write them again)\n`,
            );
        },
      ),
    );
}
