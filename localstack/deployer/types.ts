/** Shapes of the synthesized CloudFormation template and of what the deployer produces from it. */
import type { EventSourceMappingConfig, FunctionDefinition } from '../eventSourceMapping/types';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Condition?: string;
  readonly DependsOn?: string | readonly string[];
  readonly Metadata?: Readonly<Record<string, unknown>>;
}

export interface CfnTemplate {
  readonly Parameters?: Readonly<Record<string, { readonly Type: string; readonly Default?: unknown }>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
  readonly Mappings?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  readonly Resources: Readonly<Record<string, CfnResource>>;
  readonly Outputs?: Readonly<
    Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>
  >;
}

/** Pseudo parameters the local cloud answers with. */
export interface DeploymentEnvironment {
  readonly stackName: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Values for template parameters (otherwise their `Default`). */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * The stream ARN of each table with a stream, by logical id (what `Fn::GetAtt <Table>.StreamArn` returns):
   * DynamoDB names a stream by its creation time, so the tables are created first (`createTables`).
   */
  readonly tableStreamArns?: Readonly<Record<string, string>>;
  /** Base URL used to build SQS queue URLs (`<base>/<account>/<name>`). @default `https://sqs.<region>.amazonaws.com` */
  readonly sqsBaseUrl?: string;
}

export interface StreamPlan {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** Provisioned shard count; undefined for on-demand. */
  readonly shardCount?: number;
  readonly onDemand: boolean;
  readonly retentionPeriodHours?: number;
}

export interface KeyElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

export interface TablePlan {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly keySchema: readonly KeyElement[];
  readonly attributeDefinitions: readonly {
    readonly AttributeName: string;
    readonly AttributeType: 'S' | 'N' | 'B';
  }[];
  readonly globalSecondaryIndexes: readonly {
    readonly IndexName: string;
    readonly KeySchema: readonly KeyElement[];
    readonly Projection: { readonly ProjectionType?: string; readonly NonKeyAttributes?: readonly string[] };
  }[];
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  readonly ttlAttribute?: string;
  /** The stream's view type when the table has a stream (`StreamSpecification`). */
  readonly streamViewType?: 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
}

export interface BucketPlan {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

export interface QueuePlan {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly fifo: boolean;
}

/** A scheduled invocation (EventBridge rule or EventBridge Scheduler schedule) of a function. */
export interface SchedulePlan {
  readonly logicalId: string;
  readonly expression: string;
  /** Period of a `rate(...)` expression in ms; undefined for `cron(...)`/`at(...)`. */
  readonly rateMs?: number;
  readonly functionName: string;
  /** The target's constant `Input` (JSON text), if any. */
  readonly input?: string;
  readonly enabled: boolean;
}

/** A custom resource the deployer runs: its function is one of the stack's, with a local bundle. */
export interface CustomResourcePlan {
  readonly logicalId: string;
  readonly type: string;
  /** The function its `ServiceToken` names. */
  readonly functionName: string;
  readonly serviceToken: string;
  /** Its resolved properties (without `ServiceToken`). */
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface SkippedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly reason?: string;
}

/** Everything the deployer will create or register, resolved from the template. Pure data. */
export interface DeploymentPlan {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  readonly streams: readonly StreamPlan[];
  readonly tables: readonly TablePlan[];
  readonly buckets: readonly BucketPlan[];
  readonly queues: readonly QueuePlan[];
  readonly functions: readonly (FunctionDefinition & { readonly logicalId: string })[];
  readonly mappings: readonly (EventSourceMappingConfig & { readonly logicalId: string })[];
  readonly schedules: readonly SchedulePlan[];
  /** Custom resources run on deploy (before the mappings and schedules start), in template order. */
  readonly customResources: readonly CustomResourcePlan[];
  /** Resources with no local meaning (IAM, KMS, alarms, Glue…). */
  readonly ignored: readonly SkippedResource[];
  /** Resource types the deployer does not know: listed, never silently dropped. */
  readonly unsupported: readonly SkippedResource[];
  /** Resolved stack outputs. */
  readonly outputs: Readonly<Record<string, string>>;
  /** logicalId → physical name/ref value, for every resource. */
  readonly physicalIds: Readonly<Record<string, string>>;
}

/** What was deployed onto the local cloud. */
export interface Deployment extends DeploymentPlan {
  /** Queues that had no SQS endpoint and are served by a local file destination. */
  readonly localQueues: readonly string[];
  /** Non-fatal problems (e.g. an emulator without TTL support). */
  readonly warnings: readonly string[];
}
