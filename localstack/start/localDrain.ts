/**
 * The drain of `shardflow deploy --local --drain` (`functions/core/state/drain.ts`): the deployed (old) tick
 * function of a pipeline, run from the bundle of the template the last `deploy --local` deployed (its path
 * is recorded with the stack outputs), invoked on the local cloud with a drain request, as the CLI invokes
 * the tick function in AWS.
 *
 * Pausing: the local cloud's event source mappings run only inside the process serving a `deploy --local`,
 * so stopping that process (Ctrl-C) pauses them; records sent meanwhile wait on the stream. A consumer
 * still running shows as windows of the old definition opened again after the drain, and the deploy is
 * refused (`upgradeGate.ts`).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ENV } from '../../functions/core/constants';
import { DRAIN_ACTION } from '../../functions/core/state/drain';
import { planDeployment, planTables, readStackArtifact } from '../deployer';
import type { TablePlan } from '../deployer/types';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../emulators/constants';
import { WorkerInvoker } from '../eventSourceMapping';
import { NotRunningError } from './errors';
import { localClients } from './localTarget';
import { readDrainAnswer, type WindowDrainer } from './upgradeGate';

/** The stack output `deploy --local` (and `start`/`run --keep`) records the deployed template's path under. */
export const TEMPLATE_OUTPUT = 'LocalTemplatePath';

/**
 * The stream ARN of each deployed table the template gives a stream, by logical id, read by DescribeTable
 * only: the drain runs against the deployment as it is and creates nothing.
 * @throws NotRunningError naming a table that is not on the local cloud, and what to do.
 */
export async function deployedTableStreamArns(
  dynamoDb: DynamoDBClient,
  tables: readonly TablePlan[],
  pipeline: string,
): Promise<Record<string, string>> {
  const streamed = tables.filter((table) => table.streamViewType !== undefined);
  const arns = await Promise.all(
    streamed.map(async (table) => {
      const described = await dynamoDb
        .send(new DescribeTableCommand({ TableName: table.name }))
        .catch((error: unknown) => {
          throw new NotRunningError(
            `Table ${table.name} of the deployed stack is not on the local cloud (${(error as Error).name}), so its tick cannot drain pipeline ${pipeline}: deploy the old definition again with "npx shardflow deploy --local", stop it, then deploy the new one with --drain`,
            { cause: error },
          );
        });
      return described.Table?.LatestStreamArn;
    }),
  );
  return Object.fromEntries(
    streamed.flatMap((table, i) => (arns[i] === undefined ? [] : [[table.logicalId, arns[i]]])),
  );
}

/** A drainer through the tick functions of `templatePath` on the local cloud at `endpoint`; `close` when done. */
export function localDrainer(options: {
  readonly endpoint: string;
  readonly templatePath: string | undefined;
}): {
  readonly drain: WindowDrainer;
  close(): Promise<void>;
} {
  const invoker = new WorkerInvoker({
    inheritOutput: false,
    environment: {
      AWS_ENDPOINT_URL: options.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  });
  const drain: WindowDrainer = async (pipeline, atLeast) => {
    const { templatePath } = options;
    if (templatePath === undefined || !existsSync(templatePath))
      throw new NotRunningError(
        `The template of the deployed stack is gone (${templatePath ?? 'none recorded'}), so its tick cannot drain pipeline ${pipeline}: deploy the old definition again with "npx shardflow deploy --local", stop it, then deploy the new one with --drain`,
      );
    const artifact = readStackArtifact(templatePath);
    const env = { stackName: artifact.stackName, region: LOCAL_REGION, sqsBaseUrl: options.endpoint };
    // The deployed tables' stream ARNs (a table-source pipeline's functions name theirs), read only.
    const tableStreamArns = await deployedTableStreamArns(
      localClients(options.endpoint).dynamoDb,
      planTables(artifact.template, env),
      pipeline,
    );
    const plan = planDeployment(artifact.template, { ...env, tableStreamArns }, artifact.locateAsset);
    const ticks = new Set(plan.schedules.map((schedule) => schedule.functionName));
    const fn = plan.functions.find(
      (f) => ticks.has(f.functionName) && f.environment[ENV.PIPELINE] === pipeline,
    );
    if (fn === undefined)
      throw new NotRunningError(
        `The deployed stack has no tick function for pipeline ${pipeline}; deploy again with --discard-open-windows, or wait until its windows close`,
      );
    const request = { action: DRAIN_ACTION, ...(atLeast === undefined ? {} : { atLeast }) };
    const outcome = await invoker.invokeEvent(fn, request, randomUUID());
    if (!outcome.ok)
      throw new NotRunningError(
        `The drain of pipeline ${pipeline} failed (${outcome.errorType}: ${outcome.errorMessage.split('\n')[0] ?? ''}); nothing was deployed: deploy again with --drain`,
      );
    return readDrainAnswer(pipeline, outcome.payload);
  };
  return { drain, close: () => invoker.close() };
}
