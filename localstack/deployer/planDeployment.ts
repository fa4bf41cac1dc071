import {
  LOCAL_CUSTOM_RESOURCE_PREFIX,
  planCustomResource,
  PLANNERS,
  planTable,
  type PlanContext,
  type PlanParts,
} from './resourcePlanners';

import { TemplateResolver } from './TemplateResolver';
import type {
  CfnResource,
  CfnTemplate,
  DeploymentEnvironment,
  DeploymentPlan,
  SkippedResource,
} from './types';

/** Finds the directory of a function bundle from its `Code` (asset object key) or `aws:asset:path` metadata. */
export type AssetLocator = (code: {
  readonly s3Key?: string;
  readonly metadataPath?: string;
  readonly logicalId: string;
  /** `Code.ZipFile` source of an inline function; the locator writes it out as `index.js`. */
  readonly inlineCode?: string;
}) => string | undefined;

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

const emptyPlanParts = (): PlanParts => ({
  streams: [],
  tables: [],
  buckets: [],
  queues: [],
  functions: [],
  mappings: [],
  schedules: [],
  customResources: [],
  unsupported: [],
});

/** The resources whose condition (if any) holds. */
function activeResources(template: CfnTemplate, resolver: TemplateResolver): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(
    ([, r]) => r.Condition === undefined || resolver.condition(r.Condition),
  );
}

/**
 * The tables of a template, planned alone: the deployer creates them first, because a table's stream ARN
 * (which mappings and environments refer to) is named by the table's creation time. Table properties never
 * refer to a stream ARN, so they resolve without one.
 */
export function planTables(template: CfnTemplate, env: DeploymentEnvironment): PlanParts['tables'] {
  const resolver = new TemplateResolver(template, env);
  const plan = emptyPlanParts();
  for (const [logicalId, resource] of activeResources(template, resolver)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const props = (resolver.resolve(resource.Properties ?? {}, logicalId) ?? {}) as Record<string, unknown>;
    const context: PlanContext = {
      resolver,
      bundles: new Map(),
      functionNameByRef: new Map(),
      registered: new Set(),
    };
    planTable(
      { logicalId, type: resource.Type, props, name: resolver.physicalName(logicalId) },
      context,
      plan,
    );
  }
  return plan.tables;
}

/**
 * Reads a synthesized template into a deployment plan: every resource resolved to names/ARNs, the
 * functions with their bundle, environment, timeout and memory, every event source mapping setting,
 * the schedules, and the resources that are ignored or unsupported locally. A template whose tables have
 * streams needs their ARNs in `env.tableStreamArns` (see {@link planTables}).
 */
export function planDeployment(
  template: CfnTemplate,
  env: DeploymentEnvironment,
  locateAsset: AssetLocator,
): DeploymentPlan {
  const resolver = new TemplateResolver(template, env);
  const plan = emptyPlanParts();
  const ignored: SkippedResource[] = [];
  const physicalIds: Record<string, string> = {};
  const functionNameByRef = new Map<string, string>();
  /** Bundle directory of each function that has one locally. */
  const bundles = new Map<string, string>();
  /** Names of the functions that will be registered. */
  const registered = new Set<string>();

  const active = activeResources(template, resolver);
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

  const context: PlanContext = { resolver, bundles, functionNameByRef, registered };
  for (const [logicalId, resource] of active) {
    const type = resource.Type;
    const planner = Object.hasOwn(PLANNERS, type)
      ? PLANNERS[type]
      : type.startsWith(LOCAL_CUSTOM_RESOURCE_PREFIX)
        ? planCustomResource
        : undefined;
    if (planner === undefined) {
      if (IGNORED_PREFIXES.some((prefix) => type.startsWith(prefix))) ignored.push({ logicalId, type });
      else if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') {
        ignored.push({
          logicalId,
          type,
          reason: `only shardflow's own custom resources (${LOCAL_CUSTOM_RESOURCE_PREFIX}*) run locally`,
        });
      } else plan.unsupported.push({ logicalId, type });
      continue;
    }
    const props = (resolver.resolve(resource.Properties ?? {}, logicalId) ?? {}) as Record<string, unknown>;
    planner({ logicalId, type, props, name: resolver.physicalName(logicalId) }, context, plan);
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
    ...plan,
    ignored,
    outputs,
    physicalIds,
  };
}
