/**
 * The check `shardflow deploy` runs before it changes the functions (`functions/core/state/upgradeCheck.ts`):
 * for each pipeline of the new app, the open state in the deployed state table against the new definition.
 * An incompatible change under open windows is refused unless the user chose `--discard-open-windows`, which
 * is carried out here, before the deploy. A first deploy (no state table recorded or found) has nothing to
 * check.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { STATE_CHANGE } from '../../functions/core/state/stateFingerprint';
import {
  checkUpgrade,
  discardOpenWindows,
  OPEN_WINDOW_CHOICE,
  upgradeRefusal,
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

/**
 * Checks every pipeline against the state in `stateTable`; discards open windows where the user chose it.
 * Returns one line per pipeline saying what the deploy does to its open state.
 *
 * @throws IncompatibleUpgradeError (one line, with the next step) for the first pipeline that must not deploy.
 */
export async function gateUpgrade(options: {
  readonly clients: AwsClients;
  readonly stateTable: string;
  readonly pipelines: readonly CompiledPipeline<unknown>[];
  readonly choice: OpenWindowChoice;
}): Promise<string[]> {
  const store = new DynamoDBStateStore({ tableName: options.stateTable, client: options.clients.dynamoDb });
  const lines: string[] = [];
  for (const pipeline of options.pipelines) {
    const name = pipeline.spec.name;
    let snapshot;
    try {
      snapshot = await store.readProgress(name);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return [];
      throw error;
    }
    const check = checkUpgrade(snapshot, pipeline);
    const refusal = upgradeRefusal(check, options.choice);
    if (refusal !== undefined) throw new IncompatibleUpgradeError(refusal);
    const { kind, added, reasons } = check.change;
    if (kind === STATE_CHANGE.INCOMPATIBLE && check.openWindows > 0) {
      const shards = await discardOpenWindows(store, name);
      lines.push(
        `${name}: incompatible (${reasons.join('; ')}); discarded ${check.openWindows} open windows on ${shards} shards`,
      );
    } else if (kind === STATE_CHANGE.EVOLVABLE)
      lines.push(
        `${name}: evolvable; ${added.join(', ')} start from their identity in ${check.openWindows} open windows (named in evolved_columns)`,
      );
    else
      lines.push(
        `${name}: ${check.openWindows === 0 ? 'no open windows' : `compatible with ${check.openWindows} open windows`}`,
      );
  }
  return lines;
}

export { OPEN_WINDOW_CHOICE };
