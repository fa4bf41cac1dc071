/**
 * `shardflow deploy --local` (like `cdklocal deploy`): the CDK app deployed on the cloud `shardflow local
 * up` runs, with its functions served from this process (event source mappings, tick schedules) until
 * Ctrl-C. The deployed resources stay on the cloud afterwards; records sent then wait on the stream for
 * the next `deploy --local`.
 */
import { KINESIS_EMULATORS, type LocalCloud } from '../emulators/index';
import { ownerAlive, readState, type LocalCloudState } from '../emulators/stateFile';
import { NotRunningError } from './errors';
import type { LiveLine } from './liveLine';
import { TEMPLATE_OUTPUT } from './localDrain';
import { openLocalSession, type LocalSession } from './localSession';
import { ENDPOINT_OUTPUT, writeOutputs } from './localTarget';
import { synthesizeCached } from './synthesize';

/** A running `local up` cloud as the session sees it: never stopped by the session. */
export function attachedCloud(state: LocalCloudState): LocalCloud {
  return {
    endpoint: state.endpoint,
    endpoints: state.endpoints,
    pids: state.pids,
    kinesisEmulator: state.kinesis ?? KINESIS_EMULATORS.KINESIS_MOCK,
    startupMs: { kinesis: 0, dynamodb: 0, s3: 0, total: 0 },
    // The owner process watches its emulators; a failure shows here as failing calls.
    failed: new Promise(() => {}),
    stop: async () => {},
  };
}

/** Options of {@link deployLocal}. */
export interface DeployLocalOptions {
  /** A synthesized template to deploy instead of the (cached) synth of the app. */
  readonly templatePath?: string;
  readonly live: LiveLine;
  readonly verbose?: boolean;
  /** CDK context the app is synthesized with (e.g. the open-window choice of the stack's upgrade check). */
  readonly context?: Readonly<Record<string, string>>;
}

/**
 * Deploys the app on the running `local up` cloud and starts its functions; the returned session runs
 * until `stop` (which leaves the cloud up). The stack outputs are recorded for `query` and `status`.
 *
 * @throws NotRunningError when no `local up` cloud runs.
 */
export async function deployLocal(options: DeployLocalOptions): Promise<LocalSession> {
  const { live } = options;
  const state = await readState();
  if (state === undefined || !(await ownerAlive(state)))
    throw new NotRunningError(
      'No local cloud to deploy on: start one with "npx shardflow local up --detach"',
    );
  if (state.command !== undefined && state.command !== 'local up')
    throw new NotRunningError(
      `The local cloud at ${state.endpoint} belongs to "shardflow ${state.command} --keep", which already runs a deployment; stop it first or use "npx shardflow local up --detach"`,
    );
  let templatePath = options.templatePath;
  if (templatePath === undefined) {
    live.update('synthesizing the CDK app (cdk synth, offline)…');
    const app = await synthesizeCached(process.cwd(), options.context ?? {});
    if (app.cached) live.print('synth skipped: the app and its inputs have not changed since the last one');
    templatePath = app.templatePath;
  }
  live.update(`deploying the stack on the local cloud at ${state.endpoint}…`);
  const log = options.verbose === true ? (line: string) => live.print(`  ${line}`) : () => {};
  const session = await openLocalSession({
    templatePath,
    cloud: attachedCloud(state),
    log,
    functionLogs: options.verbose === true,
  });
  // The template is recorded too: a later `deploy --local --drain` runs its tick functions (`localDrain.ts`).
  writeOutputs({ ...session.outputs, [ENDPOINT_OUTPUT]: state.endpoint, [TEMPLATE_OUTPUT]: templatePath });
  live.done();
  return session;
}
