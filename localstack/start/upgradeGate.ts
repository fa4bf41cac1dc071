/**
 * The check `shardflow deploy` runs before it changes the functions (`functions/core/state/upgradeCheck.ts`):
 * for each pipeline of the new app, the open state in the deployed state table against the new definition.
 * An incompatible change under open windows is refused unless the user chose `--discard-open-windows` or
 * `--drain`, which are carried out here, before the deploy: the drain by the deployed (old) tick function
 * (`functions/core/state/drain.ts`), through the `drain` the caller gives, after which the gate checks again.
 * A first deploy (no state table recorded or found) has nothing to check. The stack runs the same gate
 * (`upgradeGate`) again in its upgrade-check custom resource, which is what guards plain `cdk deploy`; this
 * one fails earlier (before the synth, the bundling and a CloudFormation rollback), names the CLI's options,
 * and is the only one that can drain.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import type { DrainResult } from '../../functions/core/state/drain';
import { STATE_CHANGE } from '../../functions/core/state/stateFingerprint';
import {
  checkUpgrade,
  openSegmentShapes,
  OPEN_WINDOW_CHOICE,
  upgradeGate,
  type OpenWindowChoice,
} from '../../functions/core/state/upgradeCheck';
import { ShardflowCliError } from './errors';

/** A deploy would change a pipeline incompatibly under open windows, and the user chose nothing. */
export class IncompatibleUpgradeError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IncompatibleUpgradeError';
  }
}

/** A drain through the deployed functions failed or was answered with something that is no drain result. */
export class DrainFailedError extends ShardflowCliError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DrainFailedError';
  }
}

/**
 * What a deployed tick function answered a drain request with, checked.
 *
 * @throws DrainFailedError when it is no drain result (a tick older than `--drain` ticks instead).
 */
export function readDrainAnswer(pipeline: string, answer: unknown): DrainResult {
  const payload = answer as Partial<DrainResult> | null | undefined;
  const through = payload?.drainedThrough;
  if (typeof payload?.windowsEmitted !== 'number' || (through !== null && typeof through !== 'number'))
    throw new DrainFailedError(
      `The tick function of pipeline ${pipeline} did not answer the drain request (is it older than --drain?); deploy again with --discard-open-windows, or wait until its windows close`,
    );
  return { drainedThrough: through, windowsEmitted: payload.windowsEmitted };
}

/**
 * Asks the deployed (old) definition of `pipeline` to drain (its tick function, with a drain request):
 * `atLeast`, when given, raises the drain watermark (`shardflow deploy --drain` gives none).
 */
export type WindowDrainer = (pipeline: string, atLeast: number | undefined) => Promise<DrainResult>;

/**
 * Checks every pipeline against the state in `stateTable`; discards or drains open windows where the user
 * chose it (`drain`: required for the drain choice; the caller has paused the pipeline's consumers).
 * Returns one line per pipeline saying what the deploy does to its open state.
 *
 * @throws IncompatibleUpgradeError (one line, with the next step) for the first pipeline that must not deploy.
 */
export async function gateUpgrade(options: {
  readonly clients: AwsClients;
  readonly stateTable: string;
  readonly pipelines: readonly CompiledPipeline<unknown>[];
  readonly choice: OpenWindowChoice;
  readonly drain?: WindowDrainer;
}): Promise<string[]> {
  const store = new DynamoDBStateStore({ tableName: options.stateTable, client: options.clients.dynamoDb });
  const lines: string[] = [];
  for (const pipeline of options.pipelines) {
    try {
      lines.push(await gateOne(store, pipeline, options));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return [];
      throw error;
    }
  }
  return lines;
}

async function gateOne(
  store: DynamoDBStateStore,
  pipeline: CompiledPipeline<unknown>,
  options: { readonly choice: OpenWindowChoice; readonly drain?: WindowDrainer },
): Promise<string> {
  const name = pipeline.spec.name;
  if (options.choice !== OPEN_WINDOW_CHOICE.DRAIN) {
    const result = await upgradeGate(store, pipeline, options.choice);
    if (!result.passed) throw new IncompatibleUpgradeError(result.refusal);
    return result.line;
  }
  const snapshot = await store.readProgress(name);
  const check = checkUpgrade(snapshot, pipeline, await openSegmentShapes(store, snapshot, pipeline));
  if (check.change.kind !== STATE_CHANGE.INCOMPATIBLE || check.openWindows === 0) {
    const result = await upgradeGate(store, pipeline, OPEN_WINDOW_CHOICE.NONE);
    if (!result.passed) throw new IncompatibleUpgradeError(result.refusal);
    return result.line;
  }
  if (options.drain === undefined)
    throw new IncompatibleUpgradeError(
      `pipeline ${name}: no deployed tick function to drain through; deploy again with --discard-open-windows, or wait until the windows close`,
    );
  // Through the deployed definition's own drain watermark: after it every shard's close mark (window ends,
  // never lowered) keeps the drained windows closed under any lateness the new definition has, and a window
  // the deployed one never had open opens and closes as usual under the new rule. (A watermark taken from
  // the new definition's longer lateness would close those later windows too.)
  const drained = await options.drain(name, undefined);
  // The gate again, as the stack's check will run it: windows the old definition opened meanwhile refuse.
  const again = await upgradeGate(store, pipeline, OPEN_WINDOW_CHOICE.NONE);
  if (!again.passed)
    throw new IncompatibleUpgradeError(
      `pipeline ${name}: windows of the deployed definition opened again during the drain (is a consumer still running? stop the process serving the old functions, or pause the event source mappings); deploy again with --drain`,
    );
  return `${name}: incompatible (${check.change.reasons.join('; ')}); drained ${check.openWindows} open windows under the deployed definition (${drained.windowsEmitted} emitted, through ${drained.drainedThrough === null ? 'nothing' : new Date(drained.drainedThrough).toISOString()}); records for them that arrive later are late`;
}

export { OPEN_WINDOW_CHOICE };
