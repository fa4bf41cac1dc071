/**
 * The check `shardflow deploy` runs before it changes the functions (`functions/core/state/upgradeCheck.ts`):
 * for each pipeline of the new app, the open state in the deployed state table against the new definition.
 * An incompatible change under open windows is refused unless the user chose `--discard-open-windows`, which
 * is carried out here, before the deploy. A first deploy (no state table recorded or found) has nothing to
 * check. The stack runs the same gate (`upgradeGate`) again in its upgrade-check custom resource, which is what
 * guards plain `cdk deploy`; this one fails earlier (before the synth, the bundling and a CloudFormation
 * rollback) and names the CLI's options.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import {
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
    let result;
    try {
      result = await upgradeGate(store, pipeline, options.choice);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return [];
      throw error;
    }
    if (!result.passed) throw new IncompatibleUpgradeError(result.refusal);
    lines.push(result.line);
  }
  return lines;
}

export { OPEN_WINDOW_CHOICE };
