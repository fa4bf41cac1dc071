import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { ENV, METRICS } from '../../functions/core/constants';
import { ShardflowCdkError } from '../errors';
import { Problems } from '../validation';
import type { ResultsBucket } from './ResultsBucket';
import type { StateTable } from './StateTable';

/**
 * What the bundles leave out: the AWS SDK v3 and the Smithy packages it is made of, which the Node.js 22
 * Lambda runtime provides (`/var/runtime/node_modules`, on NODE_PATH). The handlers import only what the
 * SDK's clients themselves use (`@smithy/node-http-handler` for the plain-HTTP local endpoint), so they run
 * against the runtime's copy, the one its clients were built with.
 */
export const BUNDLE_EXTERNALS: readonly string[] = [
  '@aws-sdk/*',
  '@smithy/*',
  // @datadog/sketches-js requires its protobuf codec (and protobufjs, long: ~30 KB) inside its toProto and
  // fromProto methods only; shardflow uses its key mapping alone (`percentile.ts`), so that module is never
  // loaded and is left out rather than bundled.
  '../proto/compiled',
];

/**
 * The package-exports condition bundles resolve `shardflow` with: its TypeScript sources (shipped in the
 * package for this), which esbuild tree-shakes like the user's own code, and which are the same modules the
 * generated entries import the handlers from (one copy of the engine per bundle).
 */
export const BUNDLE_CONDITION = 'shardflow-source';

/** Sizing and packaging options shared by the operator and tick functions. */
export interface PipelineFunctionOptions {
  /**
   * Memory in MB, 128–10240.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Invocation timeout, 1 second – 15 minutes.
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency, 0–1000 (0 pauses the function).
   * @default - unreserved, uses the account's pool
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** Props shared by the functions of one pipeline (operator and tick): what they run and what they touch. */
export interface PipelineResourcesProps extends PipelineFunctionOptions {
  /** Pipeline name (`SHARDFLOW_PIPELINE`). */
  readonly pipeline: string;
  /**
   * Result table of the pipeline's sink: the function may write only `results/<table>/`. Absent for a
   * publish-only pipeline (no result table): it writes no results.
   */
  readonly sinkTable?: string | undefined;
  /**
   * The pipeline's Kinesis stream (the operator consumes it, the tick lists its shards); exactly one of
   * `stream` and `table`.
   */
  readonly stream?: kinesis.IStream;
  /** Instead of `stream`: the table whose DynamoDB stream the pipeline reads (`fromTable`). */
  readonly table?: dynamodb.ITable;
  /**
   * The pipeline's `source.stream`: its side outputs are filed under it.
   * @default - the stream's name
   */
  readonly sourceName?: string;
  /** Shared state table. */
  readonly stateTable: StateTable;
  /** Shared results bucket (also the operator's on-failure destination). */
  readonly resultsBucket: ResultsBucket;
  /** Handler module (exporting `handler`), absolute: a generated entry (`pipelineEntries`). */
  readonly entry: string;
  /** The project whose `package-lock.json` pins the bundle's dependencies; the entry lies under it. */
  readonly projectRoot: string;
}

/**
 * The resource names a pipeline's operator and tick functions are configured with, read from the shared
 * constructs (one place for both).
 */
export function pipelineResourceNames(
  resources: Pick<PipelineResourcesProps, 'stateTable' | 'resultsBucket' | 'stream' | 'table'>,
): Pick<PipelineFunctionProps, 'stateTableName' | 'resultsBucketName' | 'streamName'> {
  // For a table source the handlers read the table's stream ARN where a Kinesis source has its name.
  const streamName = resources.stream?.streamName ?? resources.table?.tableStreamArn;
  return {
    stateTableName: resources.stateTable.table.tableName,
    resultsBucketName: resources.resultsBucket.bucket.bucketName,
    ...(streamName !== undefined ? { streamName } : {}),
  };
}

/** What a pipeline reads, as its functions need it: a Kinesis stream, or a table and its stream's ARN. */
export type PipelineSource =
  | { readonly stream: kinesis.IStream; readonly table?: undefined; readonly name: string }
  | {
      readonly table: dynamodb.ITable;
      readonly stream?: undefined;
      readonly name: string;
      readonly streamArn: string;
    };

/**
 * The source of `props` (exactly one of `stream` and `table`, a table with a stream).
 * @throws ShardflowCdkError naming the construct otherwise.
 */
export function pipelineSource(
  scope: IConstruct,
  props: Pick<PipelineResourcesProps, 'stream' | 'table'>,
): PipelineSource {
  const at = `'${scope.node.path}'`;
  if (props.stream !== undefined && props.table !== undefined)
    throw new ShardflowCdkError(`${at}: give stream or table, not both`);
  if (props.stream !== undefined) return { stream: props.stream, name: props.stream.streamName };
  if (props.table === undefined)
    throw new ShardflowCdkError(`${at}: give stream (or table, for a table source)`);
  const streamArn = props.table.tableStreamArn;
  if (streamArn === undefined)
    throw new ShardflowCdkError(
      `${at}: table ${props.table.node.path} has no stream: enable one (stream: StreamViewType.NEW_AND_OLD_IMAGES), or import it with its tableStreamArn`,
    );
  return { table: props.table, name: props.table.tableName, streamArn };
}

/** Props of {@link PipelineFunction}. */
export interface PipelineFunctionProps extends PipelineFunctionOptions {
  /** Pipeline name, passed as `SHARDFLOW_PIPELINE`. */
  readonly pipeline: string;
  /** Absolute path of the handler module. */
  readonly entry: string;
  /** The project whose `package-lock.json` pins the bundle's dependencies; `entry` lies under it. */
  readonly projectRoot: string;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /** State table name (`SHARDFLOW_STATE_TABLE`). */
  readonly stateTableName: string;
  /**
   * Results bucket name (`SHARDFLOW_RESULTS_BUCKET`).
   * @default - not set (a function that writes no results, like the upgrade check)
   */
  readonly resultsBucketName?: string;
  /**
   * Source stream name, or a table source's stream ARN (`SHARDFLOW_STREAM_NAME`).
   * @default - not set (a function that reads no stream)
   */
  readonly streamName?: string;
  /** Shown in the console. */
  readonly description?: string;
  /** Powertools service name (`POWERTOOLS_SERVICE_NAME`): the handler's `service` metric dimension. */
  readonly serviceName: string;
}

/** Every problem with the sizing options, each naming the given value; empty when valid. */
export function validatePipelineFunctionOptions(label: string, options: PipelineFunctionOptions): string[] {
  return [
    ...new Problems()
      .integerRange(`${label} memory size (MB)`, options.memorySize, 128, 10240)
      .durationRange(`${label} timeout`, options.timeout, Duration.seconds(1), Duration.minutes(15))
      .integerRange(`${label} reserved concurrent executions`, options.reservedConcurrentExecutions, 0, 1000)
      .all,
  ];
}

/**
 * A shardflow Lambda function: Node.js 22 on arm64, bundled by the local esbuild (never Docker),
 * minified with source maps, the AWS SDK left to the runtime, the pipeline's names in its
 * environment (names from `functions/core/constants.ts`) and Powertools configured.
 */
export class PipelineFunction extends Construct {
  /** The function built. */
  public readonly function: nodejs.NodejsFunction;
  /** Its log group. */
  public readonly logGroup: logs.LogGroup;

  public constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    new Problems()
      .addAll(validatePipelineFunctionOptions('Function', props))
      .throwIfAny(`PipelineFunction '${this.node.path}'`);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A role of its own instead of the default one with AWSLambdaBasicExecutionRole (logs on every log
    // group): it writes only to its own log group.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      ...(props.description !== undefined ? { description: `Role of the ${props.description}` } : {}),
    });
    this.logGroup.grantWrite(role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role,
      entry: path.resolve(props.projectRoot, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(60),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      ...(props.description !== undefined ? { description: props.description } : {}),
      logGroup: this.logGroup,
      environment: {
        [ENV.PIPELINE]: props.pipeline,
        [ENV.STATE_TABLE]: props.stateTableName,
        ...(props.resultsBucketName !== undefined ? { [ENV.RESULTS_BUCKET]: props.resultsBucketName } : {}),
        ...(props.streamName !== undefined ? { [ENV.STREAM_NAME]: props.streamName } : {}),
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS.NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        externalModules: [...BUNDLE_EXTERNALS],
        esbuildArgs: { '--conditions': BUNDLE_CONDITION },
      },
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The project pins Node.js 22 (issue 5) so that the bundle target, the local runtime and CI use one Node major.',
    });
  }
}
