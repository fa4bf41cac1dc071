/**
 * Upgrade-check Lambda, the handler of the `Custom::ShardflowUpgradeCheck` resource each pipeline's stack
 * holds (`lib/constructs/UpgradeCheck.ts`): on Create and Update it runs the deploy's upgrade gate
 * (`core/state/upgradeCheck.ts`) on the pipeline's progress partition with the definition the resource's
 * properties carry, and answers FAILED with the one-line refusal when that definition cannot take over the
 * open windows (CloudFormation then stops the deploy before the functions update). Delete does nothing.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ENV } from '../core/constants';
import { ShardflowError } from '../core/errors';
import { CHOICE_HINT, upgradeGate } from '../core/state/upgradeCheck';
import { upgradeCheckRequest } from '../core/state/upgradeCheckResource';
import type { StateStore } from '../core/state/types';
import { dynamoDbClient } from '../adapters/aws';
import {
  customResourceResponse,
  sendCustomResourceResponse,
  type CustomResourceOutcome,
} from '../adapters/customResourceResponse';
import { DynamoDBStateStore } from '../adapters/DynamoDBStateStore';

/** What the handler talks to; tests pass an in-memory store and collect the responses. */
export interface UpgradeCheckDependencies {
  readonly store?: (tableName: string) => StateStore;
  readonly respond?: typeof sendCustomResourceResponse;
}

/** The upgrade-check handler; reads the pipeline and state table from `env` (set by the construct). */
export function upgradeCheckHandler(
  env: Readonly<Record<string, string | undefined>> = process.env,
  deps: UpgradeCheckDependencies = {},
): (event: CloudFormationCustomResourceEvent) => Promise<void> {
  const store =
    deps.store ?? ((tableName: string) => new DynamoDBStateStore({ tableName, client: dynamoDbClient() }));
  const respond = deps.respond ?? sendCustomResourceResponse;
  return async (event) => {
    let outcome: CustomResourceOutcome = { ok: true };
    // Every path answers: CloudFormation would otherwise wait an hour for the response.
    try {
      const pipeline = env[ENV.PIPELINE];
      const table = env[ENV.STATE_TABLE];
      if (event.RequestType !== 'Delete') {
        if (!pipeline || !table)
          throw new ShardflowError(`${ENV.PIPELINE} and ${ENV.STATE_TABLE} must be set`);
        const { target, choice } = upgradeCheckRequest(pipeline, event.ResourceProperties);
        const result = await upgradeGate(store(table), target, choice, CHOICE_HINT.CDK);
        outcome = result.passed
          ? { ok: true, data: { Outcome: result.line } }
          : { ok: false, reason: result.refusal };
      }
    } catch (error) {
      outcome = {
        ok: false,
        reason: `upgrade check failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    // One JSON line in the function's log group (what CloudFormation shows is the response's reason).
    console.log(JSON.stringify({ message: 'Upgrade check', requestType: event.RequestType, outcome }));
    await respond(
      event.ResponseURL,
      customResourceResponse(event, `${event.LogicalResourceId}-upgrade-check`, outcome),
    );
  };
}

let instance: ReturnType<typeof upgradeCheckHandler> | undefined;

/** The Lambda entry: one handler per instance. */
export const handler = (event: CloudFormationCustomResourceEvent): Promise<void> =>
  (instance ??= upgradeCheckHandler())(event);
