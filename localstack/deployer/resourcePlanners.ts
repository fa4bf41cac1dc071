/**
 * One planner per CloudFormation resource type the local deployer acts on: each reads one resolved resource
 * into the deployment plan (or into `unsupported`, with the reason). `planDeployment` resolves the template
 * and dispatches to these.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ESM_DEFAULTS } from '../eventSourceMapping/constants';
import { isTableStream } from '../eventSourceMapping/streamEvent';
import type { EventSourceMappingConfig, StartingPosition } from '../eventSourceMapping/types';
import { AssetNotFoundError, TemplateResolutionError } from './errors';
import type { TemplateResolver } from './TemplateResolver';
import type { DeploymentPlan, TablePlan } from './types';

/** A resource as a planner sees it: its properties resolved, its physical name. */
export interface PlannedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly props: Record<string, unknown>;
  readonly name: string;
}

/** What planners share: the resolver and what the first pass over the functions found. */
export interface PlanContext {
  readonly resolver: TemplateResolver;
  /** Bundle directory of each function that has one locally, by logical id. */
  readonly bundles: ReadonlyMap<string, string>;
  /** Function name by each way the template refers to it (name, ARN). */
  readonly functionNameByRef: ReadonlyMap<string, string>;
  /** Names of the functions that will be registered. */
  readonly registered: ReadonlySet<string>;
}

/** The parts of a plan the planners fill. */
export type PlanParts = Pick<
  { -readonly [K in keyof DeploymentPlan]: DeploymentPlan[K] extends readonly (infer T)[] ? T[] : never },
  | 'streams'
  | 'tables'
  | 'buckets'
  | 'queues'
  | 'functions'
  | 'mappings'
  | 'schedules'
  | 'customResources'
  | 'unsupported'
>;

type Planner = (resource: PlannedResource, context: PlanContext, plan: PlanParts) => void;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const num = (value: unknown): number | undefined => (value === undefined ? undefined : Number(value));

/** `rate(5 minutes)` → 300000; undefined for cron/at expressions. */
export function rateToMs(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (match === null) return undefined;
  const unit = (match[2] as string).replace(/s$/, '');
  const factor = unit === 'minute' ? 60_000 : unit === 'hour' ? 3_600_000 : 86_400_000;
  return Number(match[1]) * factor;
}

/** The entry file of a bundle for a `Handler` like `index.handler` or `src/app.main`. */
export function handlerEntry(bundleDir: string, handler: string): { entryFile: string; exportName: string } {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0)
    throw new TemplateResolutionError(`Handler must look like <file>.<export> (given ${handler})`);
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => join(bundleDir, `${modulePath}${ext}`));
  const entryFile = candidates.find((file) => existsSync(file)) ?? (candidates[0] as string);
  return { entryFile, exportName };
}

function planStream(
  { logicalId, props, name }: PlannedResource,
  context: PlanContext,
  plan: PlanParts,
): void {
  const mode = isObject(props['StreamModeDetails']) ? props['StreamModeDetails']['StreamMode'] : undefined;
  const onDemand = mode === 'ON_DEMAND' || (mode === undefined && props['ShardCount'] === undefined);
  const shardCount = num(props['ShardCount']);
  const retention = num(props['RetentionPeriodHours']);
  plan.streams.push({
    logicalId,
    name,
    arn: context.resolver.getAtt(logicalId, 'Arn'),
    onDemand,
    ...(shardCount === undefined ? {} : { shardCount }),
    ...(retention === undefined ? {} : { retentionPeriodHours: retention }),
  });
}

export function planTable(
  { logicalId, props, name }: PlannedResource,
  context: PlanContext,
  plan: PlanParts,
): void {
  const ttl = isObject(props['TimeToLiveSpecification']) ? props['TimeToLiveSpecification'] : undefined;
  const stream = isObject(props['StreamSpecification']) ? props['StreamSpecification'] : undefined;
  plan.tables.push({
    logicalId,
    name,
    arn: context.resolver.getAtt(logicalId, 'Arn'),
    keySchema: props['KeySchema'] as TablePlan['keySchema'],
    attributeDefinitions: (props['AttributeDefinitions'] ?? []) as TablePlan['attributeDefinitions'],
    globalSecondaryIndexes: ((props['GlobalSecondaryIndexes'] ?? []) as Record<string, unknown>[]).map(
      (gsi) => ({
        IndexName: String(gsi['IndexName']),
        KeySchema: gsi['KeySchema'] as TablePlan['keySchema'],
        Projection: (gsi['Projection'] ?? {
          ProjectionType: 'ALL',
        }) as TablePlan['globalSecondaryIndexes'][number]['Projection'],
      }),
    ),
    billingMode: props['BillingMode'] === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ...(ttl !== undefined && ttl['Enabled'] === true ? { ttlAttribute: String(ttl['AttributeName']) } : {}),
    ...(typeof stream?.['StreamViewType'] === 'string'
      ? { streamViewType: stream['StreamViewType'] as NonNullable<TablePlan['streamViewType']> }
      : {}),
  });
}

function planFunction(
  { logicalId, type, props, name }: PlannedResource,
  context: PlanContext,
  plan: PlanParts,
): void {
  const code = isObject(props['Code']) ? props['Code'] : {};
  const bundleDir = context.bundles.get(logicalId);
  if (bundleDir === undefined) {
    // One function without a local bundle (e.g. an image function) must not stop the others.
    plan.unsupported.push({
      logicalId,
      type,
      reason: new AssetNotFoundError(`no bundle found (Code ${JSON.stringify(code)})`).message,
    });
    return;
  }
  const handler = String(props['Handler'] ?? 'index.handler');
  const variables =
    isObject(props['Environment']) && isObject(props['Environment']['Variables'])
      ? props['Environment']['Variables']
      : {};
  plan.functions.push({
    logicalId,
    functionName: name,
    functionArn: context.resolver.getAtt(logicalId, 'Arn'),
    ...handlerEntry(bundleDir, handler),
    timeoutSeconds: num(props['Timeout']) ?? ESM_DEFAULTS.FUNCTION_TIMEOUT_SECONDS,
    memorySize: num(props['MemorySize']) ?? ESM_DEFAULTS.FUNCTION_MEMORY_MB,
    environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
    roleArn:
      typeof props['Role'] === 'string'
        ? props['Role']
        : `arn:aws:iam::${context.resolver.accountId}:role/${name}-role`,
    region: context.resolver.region,
  });
}

function planMapping(
  { logicalId, type, props, name }: PlannedResource,
  context: PlanContext,
  plan: PlanParts,
): void {
  const sourceArn = String(props['EventSourceArn'] ?? '');
  // A Kinesis stream, or a table's DynamoDB stream (the runtime polls either through the same reader port).
  if (!sourceArn.includes(':kinesis:') && !isTableStream(sourceArn)) {
    plan.unsupported.push({
      logicalId,
      type,
      reason: `event source ${sourceArn} is not a Kinesis stream or a table's DynamoDB stream`,
    });
    return;
  }
  const functionRef = String(props['FunctionName']);
  const functionName =
    context.functionNameByRef.get(functionRef) ?? functionRef.split(':').pop() ?? functionRef;
  if (!context.registered.has(functionName)) {
    plan.unsupported.push({ logicalId, type, reason: `function ${functionName} is not available locally` });
    return;
  }
  const destination =
    isObject(props['DestinationConfig']) && isObject(props['DestinationConfig']['OnFailure'])
      ? props['DestinationConfig']['OnFailure']['Destination']
      : undefined;
  const filters =
    isObject(props['FilterCriteria']) && Array.isArray(props['FilterCriteria']['Filters'])
      ? props['FilterCriteria']['Filters']
      : [];
  const opt = (key: string, prop: string, convert: (v: unknown) => unknown = num): Record<string, unknown> =>
    props[prop] === undefined ? {} : { [key]: convert(props[prop]) };
  plan.mappings.push({
    logicalId,
    uuid: name,
    functionName,
    eventSourceArn: sourceArn,
    startingPosition: String(props['StartingPosition'] ?? 'LATEST') as StartingPosition,
    ...opt('startingPositionTimestamp', 'StartingPositionTimestamp'),
    ...opt('batchSize', 'BatchSize'),
    ...opt('maximumBatchingWindowInSeconds', 'MaximumBatchingWindowInSeconds'),
    ...opt('parallelizationFactor', 'ParallelizationFactor'),
    ...opt('bisectBatchOnFunctionError', 'BisectBatchOnFunctionError', (v) => v === true || v === 'true'),
    ...opt('maximumRetryAttempts', 'MaximumRetryAttempts'),
    ...opt('maximumRecordAgeInSeconds', 'MaximumRecordAgeInSeconds'),
    ...opt('tumblingWindowInSeconds', 'TumblingWindowInSeconds'),
    ...opt('functionResponseTypes', 'FunctionResponseTypes', (v) => (Array.isArray(v) ? v.map(String) : [])),
    ...opt('enabled', 'Enabled', (v) => v !== false && v !== 'false'),
    ...(typeof destination === 'string' ? { onFailureDestination: destination } : {}),
    ...(filters.length > 0
      ? { filterPatterns: filters.map((f) => String(isObject(f) ? f['Pattern'] : '')) }
      : {}),
  } as EventSourceMappingConfig & { logicalId: string });
}

function planSchedule(
  { logicalId, type, props }: PlannedResource,
  context: PlanContext,
  plan: PlanParts,
): void {
  const expression = props['ScheduleExpression'];
  if (typeof expression !== 'string') {
    plan.unsupported.push({
      logicalId,
      type,
      reason: 'only scheduled rules are emulated (no event patterns)',
    });
    return;
  }
  const targets =
    type === 'AWS::Events::Rule'
      ? ((props['Targets'] ?? []) as Record<string, unknown>[])
      : [props['Target'] as Record<string, unknown>];
  const enabled = props['State'] !== 'DISABLED';
  const rateMs = rateToMs(expression);
  for (const target of targets) {
    const functionName = context.functionNameByRef.get(String(target?.['Arn']));
    if (functionName === undefined) {
      plan.unsupported.push({
        logicalId,
        type,
        reason: `target ${String(target?.['Arn'])} is not a function of this stack`,
      });
      continue;
    }
    plan.schedules.push({
      logicalId,
      expression,
      functionName,
      enabled,
      ...(rateMs === undefined ? {} : { rateMs }),
      ...(typeof target['Input'] === 'string' ? { input: target['Input'] } : {}),
    });
  }
}

/**
 * Custom resources the deployer runs: shardflow's own (`Custom::Shardflow…`), whose handlers answer on any
 * response URL. CDK's built-in providers answer over HTTPS only, which the local response endpoint is not, so
 * other custom resources stay ignored.
 */
export const LOCAL_CUSTOM_RESOURCE_PREFIX = 'Custom::Shardflow';

/** A custom resource run on deploy: its service token must be a function of the stack with a local bundle. */
export function planCustomResource(
  { logicalId, type, props }: PlannedResource,
  context: PlanContext,
  plan: PlanParts,
): void {
  const serviceToken = String(props['ServiceToken'] ?? '');
  const functionName = context.functionNameByRef.get(serviceToken);
  if (functionName === undefined || !context.registered.has(functionName)) {
    plan.unsupported.push({
      logicalId,
      type,
      reason: `service token ${serviceToken} is not a function of this stack available locally`,
    });
    return;
  }
  const properties = Object.fromEntries(Object.entries(props).filter(([key]) => key !== 'ServiceToken'));
  plan.customResources.push({ logicalId, type, functionName, serviceToken, properties });
}

/** The planner of each type the deployer acts on (the other types are ignored or unsupported). */
export const PLANNERS: Readonly<Record<string, Planner>> = {
  'AWS::Kinesis::Stream': planStream,
  'AWS::DynamoDB::Table': planTable,
  'AWS::S3::Bucket': ({ logicalId, name }, context, plan) =>
    plan.buckets.push({ logicalId, name, arn: context.resolver.getAtt(logicalId, 'Arn') }),
  'AWS::SQS::Queue': ({ logicalId, props, name }, context, plan) =>
    plan.queues.push({
      logicalId,
      name,
      arn: context.resolver.getAtt(logicalId, 'Arn'),
      url: context.resolver.ref(logicalId),
      fifo: props['FifoQueue'] === true,
    }),
  'AWS::Lambda::Function': planFunction,
  'AWS::Lambda::EventSourceMapping': planMapping,
  'AWS::Events::Rule': planSchedule,
  'AWS::Scheduler::Schedule': planSchedule,
};
