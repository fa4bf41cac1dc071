import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ESM_DEFAULTS } from '../eventSourceMapping/constants';
import type {
  EventSourceMappingConfig,
  FunctionDefinition,
  StartingPosition,
} from '../eventSourceMapping/types';
import { AssetNotFoundError, TemplateResolutionError } from './errors';
import { TemplateResolver } from './TemplateResolver';
import type {
  BucketPlan,
  CfnTemplate,
  DeploymentEnvironment,
  DeploymentPlan,
  QueuePlan,
  SchedulePlan,
  SkippedResource,
  StreamPlan,
  TablePlan,
} from './types';

/** Finds the directory of a function bundle from its `Code` (asset object key) or `aws:asset:path` metadata. */
export type AssetLocator = (code: {
  readonly s3Key?: string;
  readonly metadataPath?: string;
  readonly logicalId: string;
  /** `Code.ZipFile` source of an inline function; the locator writes it out as `index.js`. */
  readonly inlineCode?: string;
}) => string | undefined;

/** Types the deployer acts on. */
const HANDLED = new Set([
  'AWS::Kinesis::Stream',
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::SQS::Queue',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Events::Rule',
  'AWS::Scheduler::Schedule',
]);

/** Types (or namespaces, ending in `::`) with no meaning on the local cloud. */
const IGNORED_PREFIXES = [
  'AWS::IAM::',
  'AWS::KMS::',
  'AWS::CloudWatch::',
  'AWS::Glue::',
  'AWS::Athena::',
  'AWS::Logs::',
  'AWS::CDK::Metadata',
  'AWS::S3::BucketPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Scheduler::ScheduleGroup',
  'AWS::SSM::Parameter',
];

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

/**
 * Reads a synthesized template into a deployment plan: every resource resolved to names/ARNs, the
 * functions with their bundle, environment, timeout and memory, every event source mapping setting,
 * the schedules, and the resources that are ignored or unsupported locally.
 */
export function planDeployment(
  template: CfnTemplate,
  env: DeploymentEnvironment,
  locateAsset: AssetLocator,
): DeploymentPlan {
  const resolver = new TemplateResolver(template, env);
  const streams: StreamPlan[] = [];
  const tables: TablePlan[] = [];
  const buckets: BucketPlan[] = [];
  const queues: QueuePlan[] = [];
  const functions: (FunctionDefinition & { logicalId: string })[] = [];
  const mappings: (EventSourceMappingConfig & { logicalId: string })[] = [];
  const schedules: SchedulePlan[] = [];
  const ignored: SkippedResource[] = [];
  const unsupported: SkippedResource[] = [];
  const physicalIds: Record<string, string> = {};
  const functionNameByRef = new Map<string, string>();
  /** Bundle directory of each function that has one locally. */
  const bundles = new Map<string, string>();
  /** Names of the functions that will be registered. */
  const registered = new Set<string>();

  const active = Object.entries(template.Resources).filter(
    ([, r]) => r.Condition === undefined || resolver.condition(r.Condition),
  );
  for (const [logicalId, resource] of active) {
    physicalIds[logicalId] = resolver.ref(logicalId);
    if (resource.Type === 'AWS::Lambda::Function') {
      const name = resolver.physicalName(logicalId);
      functionNameByRef.set(name, name);
      functionNameByRef.set(resolver.getAtt(logicalId, 'Arn'), name);
      const code = (resolver.resolve(resource.Properties?.['Code'] ?? {}, `${logicalId}.Code`) ??
        {}) as Record<string, unknown>;
      const metadataPath = resource.Metadata?.['aws:asset:path'];
      const bundleDir = locateAsset({
        logicalId,
        ...(typeof code['S3Key'] === 'string' ? { s3Key: code['S3Key'] } : {}),
        ...(typeof metadataPath === 'string' ? { metadataPath } : {}),
        ...(typeof code['ZipFile'] === 'string' ? { inlineCode: code['ZipFile'] } : {}),
      });
      if (bundleDir !== undefined) {
        bundles.set(logicalId, bundleDir);
        registered.add(name);
      }
    }
  }

  for (const [logicalId, resource] of active) {
    const type = resource.Type;
    if (!HANDLED.has(type)) {
      if (IGNORED_PREFIXES.some((prefix) => type.startsWith(prefix))) ignored.push({ logicalId, type });
      else if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
        ignored.push({
          logicalId,
          type,
          reason: 'custom resources run CloudFormation-side Lambda code; not executed locally',
        });
      } else unsupported.push({ logicalId, type });
      continue;
    }
    const props = (resolver.resolve(resource.Properties ?? {}, logicalId) ?? {}) as Record<string, unknown>;
    const name = resolver.physicalName(logicalId);
    switch (type) {
      case 'AWS::Kinesis::Stream': {
        const mode = isObject(props['StreamModeDetails'])
          ? props['StreamModeDetails']['StreamMode']
          : undefined;
        const onDemand = mode === 'ON_DEMAND' || (mode === undefined && props['ShardCount'] === undefined);
        const shardCount = num(props['ShardCount']);
        const retention = num(props['RetentionPeriodHours']);
        streams.push({
          logicalId,
          name,
          arn: resolver.getAtt(logicalId, 'Arn'),
          onDemand,
          ...(shardCount === undefined ? {} : { shardCount }),
          ...(retention === undefined ? {} : { retentionPeriodHours: retention }),
        });
        break;
      }
      case 'AWS::DynamoDB::Table': {
        const ttl = isObject(props['TimeToLiveSpecification']) ? props['TimeToLiveSpecification'] : undefined;
        tables.push({
          logicalId,
          name,
          arn: resolver.getAtt(logicalId, 'Arn'),
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
          ...(ttl !== undefined && ttl['Enabled'] === true
            ? { ttlAttribute: String(ttl['AttributeName']) }
            : {}),
        });
        break;
      }
      case 'AWS::S3::Bucket':
        buckets.push({ logicalId, name, arn: resolver.getAtt(logicalId, 'Arn') });
        break;
      case 'AWS::SQS::Queue':
        queues.push({
          logicalId,
          name,
          arn: resolver.getAtt(logicalId, 'Arn'),
          url: resolver.ref(logicalId),
          fifo: props['FifoQueue'] === true,
        });
        break;
      case 'AWS::Lambda::Function': {
        const code = isObject(props['Code']) ? props['Code'] : {};
        const bundleDir = bundles.get(logicalId);
        if (bundleDir === undefined) {
          // One function without a local bundle (e.g. an image function) must not stop the others.
          unsupported.push({
            logicalId,
            type,
            reason: new AssetNotFoundError(`no bundle found (Code ${JSON.stringify(code)})`).message,
          });
          break;
        }
        const handler = String(props['Handler'] ?? 'index.handler');
        const variables =
          isObject(props['Environment']) && isObject(props['Environment']['Variables'])
            ? props['Environment']['Variables']
            : {};
        functions.push({
          logicalId,
          functionName: name,
          functionArn: resolver.getAtt(logicalId, 'Arn'),
          ...handlerEntry(bundleDir, handler),
          timeoutSeconds: num(props['Timeout']) ?? ESM_DEFAULTS.FUNCTION_TIMEOUT_SECONDS,
          memorySize: num(props['MemorySize']) ?? ESM_DEFAULTS.FUNCTION_MEMORY_MB,
          environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
          roleArn:
            typeof props['Role'] === 'string'
              ? props['Role']
              : `arn:aws:iam::${resolver.accountId}:role/${name}-role`,
          region: resolver.region,
        });
        break;
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const sourceArn = String(props['EventSourceArn'] ?? '');
        if (!sourceArn.includes(':kinesis:')) {
          unsupported.push({ logicalId, type, reason: `event source ${sourceArn} is not a Kinesis stream` });
          break;
        }
        const functionRef = String(props['FunctionName']);
        const functionName =
          functionNameByRef.get(functionRef) ?? functionRef.split(':').pop() ?? functionRef;
        if (!registered.has(functionName)) {
          unsupported.push({ logicalId, type, reason: `function ${functionName} is not available locally` });
          break;
        }
        const destination =
          isObject(props['DestinationConfig']) && isObject(props['DestinationConfig']['OnFailure'])
            ? props['DestinationConfig']['OnFailure']['Destination']
            : undefined;
        const filters =
          isObject(props['FilterCriteria']) && Array.isArray(props['FilterCriteria']['Filters'])
            ? props['FilterCriteria']['Filters']
            : [];
        const opt = (
          key: string,
          prop: string,
          convert: (v: unknown) => unknown = num,
        ): Record<string, unknown> => (props[prop] === undefined ? {} : { [key]: convert(props[prop]) });
        mappings.push({
          logicalId,
          uuid: name,
          functionName,
          eventSourceArn: sourceArn,
          startingPosition: String(props['StartingPosition'] ?? 'LATEST') as StartingPosition,
          ...opt('startingPositionTimestamp', 'StartingPositionTimestamp'),
          ...opt('batchSize', 'BatchSize'),
          ...opt('maximumBatchingWindowInSeconds', 'MaximumBatchingWindowInSeconds'),
          ...opt('parallelizationFactor', 'ParallelizationFactor'),
          ...opt(
            'bisectBatchOnFunctionError',
            'BisectBatchOnFunctionError',
            (v) => v === true || v === 'true',
          ),
          ...opt('maximumRetryAttempts', 'MaximumRetryAttempts'),
          ...opt('maximumRecordAgeInSeconds', 'MaximumRecordAgeInSeconds'),
          ...opt('tumblingWindowInSeconds', 'TumblingWindowInSeconds'),
          ...opt('functionResponseTypes', 'FunctionResponseTypes', (v) =>
            Array.isArray(v) ? v.map(String) : [],
          ),
          ...opt('enabled', 'Enabled', (v) => v !== false && v !== 'false'),
          ...(typeof destination === 'string' ? { onFailureDestination: destination } : {}),
          ...(filters.length > 0
            ? { filterPatterns: filters.map((f) => String(isObject(f) ? f['Pattern'] : '')) }
            : {}),
        } as EventSourceMappingConfig & { logicalId: string });
        break;
      }
      case 'AWS::Events::Rule':
      case 'AWS::Scheduler::Schedule': {
        const expression = props['ScheduleExpression'];
        if (typeof expression !== 'string') {
          unsupported.push({
            logicalId,
            type,
            reason: 'only scheduled rules are emulated (no event patterns)',
          });
          break;
        }
        const targets =
          type === 'AWS::Events::Rule'
            ? ((props['Targets'] ?? []) as Record<string, unknown>[])
            : [props['Target'] as Record<string, unknown>];
        const enabled =
          type === 'AWS::Events::Rule' ? props['State'] !== 'DISABLED' : props['State'] !== 'DISABLED';
        for (const target of targets) {
          const functionName = functionNameByRef.get(String(target?.['Arn']));
          if (functionName === undefined) {
            unsupported.push({
              logicalId,
              type,
              reason: `target ${String(target?.['Arn'])} is not a function of this stack`,
            });
            continue;
          }
          const rateMs = rateToMs(expression);
          schedules.push({
            logicalId,
            expression,
            functionName,
            enabled,
            ...(rateMs === undefined ? {} : { rateMs }),
            ...(typeof target['Input'] === 'string' ? { input: target['Input'] } : {}),
          });
        }
        break;
      }
    }
  }

  const outputs: Record<string, string> = {};
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    const value = resolver.resolve(output.Value, `Outputs.${key}`);
    outputs[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }

  return {
    stackName: resolver.stackName,
    region: resolver.region,
    accountId: resolver.accountId,
    streams,
    tables,
    buckets,
    queues,
    functions,
    mappings,
    schedules,
    ignored,
    unsupported,
    outputs,
    physicalIds,
  };
}
