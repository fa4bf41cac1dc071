import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { deployLocal } from '../../start/deployLocal';
import { createLiveLine } from '../../start/liveLine';
import { outputsFilePath } from '../../start/localTarget';
import { untilInterrupted } from '../interrupted';
import { cliAction, CommandFailedError } from './cliAction';
import { createClients, type AwsClients } from '../../../functions/adapters/aws';
import type { CompiledPipeline } from '../../../functions/core/engine/CompiledPipeline';
import { NotRunningError } from '../../start/errors';
import { deployedShippedPipelines, loadPipeline, UnknownPipelineError } from '../../start/loadPipeline';
import { assertLocalCloudRunning, localClients, localTarget, readOutputs } from '../../start/localTarget';
import { resolveStateTable } from '../../start/pipelineStatus';
import { gateUpgrade, OPEN_WINDOW_CHOICE, type WindowDrainer } from '../../start/upgradeGate';
import { localDrainer, TEMPLATE_OUTPUT } from '../../start/localDrain';
import { awsDrainer } from '../../start/awsDrain';
import { CHOICE_HINT, OPEN_WINDOWS_CONTEXT } from '../../../functions/core/state/upgradeCheck';

/**
 * Runs the project's CDK CLI (`npx cdk …`) with inherited stdio and resolves with its exit code.
 * `npx --no-install` so a missing local install fails instead of downloading something.
 */
export function runCdk(args: readonly string[], cwd: string = process.cwd()): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'cdk', ...args], { cwd, stdio: 'inherit', env: process.env });
    child.once('error', (error) =>
      reject(new CommandFailedError(`cannot run the CDK CLI: ${error.message}`, { cause: error })),
    );
    child.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

async function cdkOrFail(args: readonly string[]): Promise<void> {
  const code = await runCdk(args);
  if (code !== 0) throw new CommandFailedError(`cdk ${args[0] ?? ''} exited with code ${code}`);
}

/** `shardflow synth` and `shardflow deploy`: thin wrappers over the CDK CLI. */
export function registerCdkCommands(program: Command): void {
  program
    .command('synth')
    .description('Synthesize the CloudFormation template into cdk.out (offline; runs "cdk synth")')
    .argument('[cdkArgs...]', 'extra arguments for cdk synth (after --)')
    .allowUnknownOption()
    .action(cliAction(async (cdkArgs: string[]) => cdkOrFail(['synth', ...cdkArgs])));

  program
    .command('deploy')
    .description(
      'Deploy the stack to the AWS account of the current credentials (runs "cdk deploy"), or with --local on the local cloud',
    )
    .argument('[cdkArgs...]', 'extra arguments for cdk deploy (after --), e.g. --require-approval never')
    .allowUnknownOption()
    .addHelpText(
      'after',
      `\nThe stack outputs are written to ${outputsFilePath()} so that "shardflow query --athena" finds the workgroup.`,
    )
    .option(
      '--local',
      'deploy on the cloud "shardflow local up" runs (like cdklocal deploy) and serve its functions until Ctrl-C',
    )
    .option('--template <path>', 'with --local: deploy this synthesized template instead of the app')
    .option('-v, --verbose', 'with --local: print the deployer and function logs')
    .option(
      '--discard-open-windows',
      'when a pipeline changes incompatibly (window, key, an aggregate changed or removed) while windows are open, drop those windows (never emitted) instead of refusing the deploy',
    )
    .option(
      '--drain',
      'when a pipeline changes incompatibly while windows are open, close and emit those windows under the deployed definition first, then deploy (AWS: its event source mappings are paused until the deploy is done; --local: stop the process serving the old functions first); their records arriving later are late',
    )
    .option(
      '--check <pipelines>',
      'comma-separated pipelines (shipped names or module paths) whose stored state the deploy checks first (default: the shipped ones the deployment has)',
    )
    .addHelpText(
      'after',
      '\nBefore deploying, the stored state of each checked pipeline is compared with its new definition: a compatible change (same state shape) or an evolvable one (aggregate columns added) deploys; an incompatible one under open windows is refused unless --drain or --discard-open-windows. The stack checks every pipeline of the app again as it deploys (its upgrade-check custom resource, before the functions update); --discard-open-windows is passed on to it as -c shardflow:openWindows=discard.',
    )
    .action(
      cliAction(
        async (
          cdkArgs: string[],
          options: {
            local?: boolean;
            template?: string;
            verbose?: boolean;
            discardOpenWindows?: boolean;
            drain?: boolean;
            check?: string;
          },
        ) => {
          const paused = await checkStoredState(options.local === true, options);
          // The stack's own upgrade check runs the same gate again while CloudFormation (or the local deployer)
          // deploys; it must carry the same choice, or a window the old functions open after this check would
          // make it refuse what the user allowed.
          const context: Record<string, string> =
            options.discardOpenWindows === true ? { [OPEN_WINDOWS_CONTEXT]: 'discard' } : {};
          if (options.local !== true) {
            const contextArgs = Object.entries(context).flatMap(([key, value]) => [
              '--context',
              `${key}=${value}`,
            ]);
            try {
              await cdkOrFail(['deploy', '--outputs-file', outputsFilePath(), ...contextArgs, ...cdkArgs]);
            } finally {
              await paused.resume();
            }
            return;
          }
          if (cdkArgs.length > 0)
            throw new CommandFailedError(
              `deploy --local takes no cdk arguments (given ${cdkArgs.join(' ')})`,
            );
          const live = createLiveLine();
          const session = await deployLocal({
            live,
            verbose: options.verbose === true,
            context,
            ...(options.template === undefined ? {} : { templatePath: resolve(options.template) }),
          }).catch((error: unknown) => {
            throw withLocalChoiceHint(error);
          });
          try {
            const pipelines = Object.entries(session.outputs)
              .filter(([key]) => key.startsWith('StreamName'))
              .map(([key, stream]) => `${key.slice('StreamName'.length)} (stream ${stream})`);
            const stopped = untilInterrupted();
            live.print(
              `deployed on ${session.cloud.endpoint}: ${pipelines.join(', ')}; bucket ${session.bucket}, table ${session.stateTable}\n` +
                `Serving the functions (event source mappings, tick schedules). In another terminal:\n` +
                `  npx shardflow send <file> --stream <stream>\n  npx shardflow status\n  npx shardflow query "SELECT …"\n` +
                `Press Ctrl-C to stop serving (the cloud keeps running; records wait on the stream).`,
            );
            await stopped;
          } finally {
            await session.stop();
          }
        },
      ),
    );
}

/** What `deploy --local` takes where the stack's check names `-c shardflow:openWindows=discard`. */
export const LOCAL_CHOICE_HINT =
  'deploy again with --discard-open-windows to drop them, or with --drain --check <the pipeline module> to emit them first';

/**
 * The stack's own upgrade check answers as for plain `cdk deploy` (`-c shardflow:openWindows=discard`), which
 * `deploy --local` refuses ("takes no cdk arguments"): its refusal names this command's options instead. The
 * check refuses a pipeline the early check (`--check`) did not cover, so `--drain` needs `--check` to reach it.
 */
export function withLocalChoiceHint(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.includes(CHOICE_HINT.CDK)) return error;
  return new CommandFailedError(error.message.replace(CHOICE_HINT.CDK, LOCAL_CHOICE_HINT), { cause: error });
}

/**
 * The early check's default: the shipped pipelines the recorded deployment has (all of them when none is
 * recorded); none for a deployment of your own app, whose pipelines the stack's check covers as it deploys
 * (`--check <modules>` checks them first).
 */
function shippedPipelinesToCheck(): CompiledPipeline<unknown>[] {
  try {
    return deployedShippedPipelines(readOutputs(), 'npx shardflow deploy --check pipelines/<module>.ts');
  } catch (error) {
    if (error instanceof UnknownPipelineError) return [];
    throw error;
  }
}

/**
 * The pre-deploy state check (`start/upgradeGate.ts`) against the deployed state table: the local cloud's
 * with --local, else the one the last `shardflow deploy` recorded (none: a first deploy, nothing to check).
 */
async function checkStoredState(
  local: boolean,
  options: { readonly discardOpenWindows?: boolean; readonly drain?: boolean; readonly check?: string },
): Promise<{ resume(): Promise<void> }> {
  const nothingPaused = { resume: async () => {} };
  if (options.drain === true && options.discardOpenWindows === true)
    throw new CommandFailedError('choose one of --drain and --discard-open-windows');
  const pipelines: CompiledPipeline<unknown>[] =
    options.check === undefined
      ? shippedPipelinesToCheck()
      : options.check
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name.length > 0)
          .map((name) => loadPipeline(name));
  let clients: AwsClients;
  let stateTable: string;
  // Local: the mappings run only in the process serving the last `deploy --local`, which the user stops;
  // the drain runs that deploy's tick bundle. AWS: the drainer pauses the mappings until after the deploy.
  let drainer: { readonly drain: WindowDrainer; close(): Promise<void> };
  let paused = nothingPaused;
  if (local) {
    const { endpoint } = await localTarget();
    clients = localClients(endpoint);
    await assertLocalCloudRunning(clients, endpoint);
    try {
      stateTable = await resolveStateTable(clients);
    } catch (error) {
      if (error instanceof NotRunningError) return nothingPaused;
      throw error;
    }
    drainer = localDrainer({ endpoint, templatePath: readOutputs()?.[TEMPLATE_OUTPUT] });
  } else {
    const outputs = readOutputs();
    const recorded = outputs?.StateTableName;
    if (outputs === undefined || recorded === undefined) return nothingPaused;
    clients = createClients();
    stateTable = recorded;
    const aws = awsDrainer({
      lambda: clients.lambda,
      outputs,
      progress: (line) => process.stderr.write(`state check: ${line}\n`),
    });
    drainer = { drain: aws.drain, close: async () => {} };
    paused = aws;
  }
  const choice =
    options.drain === true
      ? OPEN_WINDOW_CHOICE.DRAIN
      : options.discardOpenWindows === true
        ? OPEN_WINDOW_CHOICE.DISCARD
        : OPEN_WINDOW_CHOICE.NONE;
  try {
    const lines = await gateUpgrade({ clients, stateTable, pipelines, choice, drain: drainer.drain });
    for (const line of lines) process.stderr.write(`state check: ${line}\n`);
  } catch (error) {
    // Nothing deploys: let the old functions go on.
    await paused.resume();
    throw error;
  } finally {
    await drainer.close();
  }
  return paused;
}
