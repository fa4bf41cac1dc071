import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { PARTITION_COLUMNS } from '../../functions/core/constants';
import type { PipelineSpec } from '../../functions/core/types';
import { AthenaWorkgroup, validateAthenaWorkgroupProps } from '../constructs/AthenaWorkgroup';
import { GLUE_NAME, GlueCatalog, validateGlueCatalogProps } from '../constructs/GlueCatalog';
import { IngestStream, validateIngestStreamProps } from '../constructs/IngestStream';
import { OperatorFunction, validateOperatorFunctionProps } from '../constructs/OperatorFunction';
import {
  type PipelineAlarmOptions,
  PipelineAlarms,
  validatePipelineAlarmOptions,
} from '../constructs/PipelineAlarms';
import type { PipelineFunctionOptions } from '../constructs/PipelineFunction';
import {
  LAMBDA_FAILURE_PREFIX,
  ResultsBucket,
  type ResultsBucketProps,
  validateResultsBucketProps,
} from '../constructs/ResultsBucket';
import { ResultTable } from '../constructs/ResultTable';
import type { ShardEventSourceOptions } from '../constructs/ShardEventSource';
import { ShardflowDashboard } from '../constructs/ShardflowDashboard';
import { StateTable, type StateTableProps } from '../constructs/StateTable';
import { TickSchedule, validateTickScheduleProps } from '../constructs/TickSchedule';
import { Problems } from '../validation';

/**
 * A pipeline as the stack deploys it: the pipeline module's serialisable `spec` (a pipeline object
 * from `functions/pipelines` satisfies this as is), plus optional per-pipeline deployment settings
 * that override the stack-wide ones.
 */
export interface PipelineDeployment {
  /** The pipeline definition. */
  readonly spec: PipelineSpec;
  /**
   * Event source mapping settings of this pipeline, merged over the stack's `eventSource`.
   * @default - the stack's `eventSource`
   */
  readonly eventSource?: ShardEventSourceOptions;
  /**
   * Operator function sizing of this pipeline, merged over the stack's `operator`.
   * @default - the stack's `operator`
   */
  readonly operator?: PipelineFunctionOptions;
  /**
   * Alarm thresholds of this pipeline, merged over the stack's `alarms`.
   * @default - the stack's `alarms`
   */
  readonly alarms?: PipelineAlarmOptions;
}

/** Tick function sizing and schedule. */
export interface TickOptions extends PipelineFunctionOptions {
  /**
   * Time between ticks, 1–60 whole minutes.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
}

/** Props of {@link ShardflowStack}. */
export interface ShardflowStackProps extends StackProps {
  /** The pipelines to deploy: at least one, names, streams and sink tables unique. */
  readonly pipelines: readonly PipelineDeployment[];
  /**
   * Operator handler module, absolute or relative to the repository root.
   * @default 'functions/handlers/operator.ts'
   */
  readonly operatorEntry?: string;
  /**
   * Tick handler module, absolute or relative to the repository root.
   * @default 'functions/handlers/tick.ts'
   */
  readonly tickEntry?: string;
  /**
   * Event source mapping settings for every pipeline.
   * @default - see `SHARD_EVENT_SOURCE_DEFAULTS`
   */
  readonly eventSource?: ShardEventSourceOptions;
  /**
   * Operator function sizing for every pipeline.
   * @default - 512 MB, 60 s, unreserved concurrency
   */
  readonly operator?: PipelineFunctionOptions;
  /**
   * Tick function sizing and interval for every pipeline.
   * @default - 512 MB, 60 s, every minute
   */
  readonly tick?: TickOptions;
  /**
   * Alarm thresholds for every pipeline.
   * @default - see `PipelineAlarmOptions`
   */
  readonly alarms?: PipelineAlarmOptions;
  /**
   * Results bucket options (lifecycle days, versioning, access logs).
   * @default - see `ResultsBucketProps`
   */
  readonly resultsBucket?: Omit<ResultsBucketProps, 'removalPolicy'>;
  /**
   * State table options (customer-managed key).
   * @default - AWS-managed encryption
   */
  readonly stateTable?: Omit<StateTableProps, 'removalPolicy'>;
  /**
   * Retention of every ingest stream, 24 hours – 365 days.
   * @default Duration.hours(24)
   */
  readonly streamRetention?: Duration;
  /**
   * Glue database name, `[a-z0-9_]{1,255}`.
   * @default 'shardflow'
   */
  readonly glueDatabaseName?: string;
  /**
   * Athena workgroup name.
   * @default 'shardflow'
   */
  readonly athenaWorkgroupName?: string;
  /**
   * Create the Glue database and tables and the Athena workgroup. Turn off where those services do
   * not exist (LocalStack Community); results are still written and can be queried with DuckDB.
   * @default true
   */
  readonly analytics?: boolean;
  /**
   * Removal policy of the data-holding resources (streams, state table, buckets). `DESTROY` suits
   * test stacks; buckets still need emptying before they can be deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A Glue table name that the handlers also accept as an S3 key segment (leading letter or digit). */
const SINK_TABLE_NAME = /^[a-z0-9][a-z0-9_]{0,254}$/;

/** Pipeline names: used in construct ids, alarm names and the `pipeline` metric dimension. */
const PIPELINE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** `flight-delays` → `FlightDelays`: output ids are alphanumeric. */
function pascal(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

function duplicates(values: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([v]) => v);
}

/** Every problem with the stack's props, each naming the given value; empty when valid. */
export function validateShardflowStackProps(props: ShardflowStackProps): string[] {
  const problems = new Problems();
  const specs = props.pipelines.map((p) => p.spec);
  problems.check(specs.length === 0, 'At least one pipeline is required (given 0)');
  for (const name of duplicates(specs.map((s) => s.name)))
    problems.check(true, `Pipeline names must be unique (given '${name}' more than once)`);
  for (const stream of duplicates(specs.map((s) => s.source.stream)))
    problems.check(true, `Pipeline streams must be unique (given '${stream}' more than once)`);
  for (const table of duplicates(specs.map((s) => s.sink.table)))
    problems.check(true, `Sink tables must be unique (given '${table}' more than once)`);
  for (const id of duplicates(specs.filter((s) => PIPELINE_NAME.test(s.name)).map((s) => pascal(s.name))))
    problems.check(
      true,
      `Pipeline names must differ in more than punctuation (given several that map to output id 'StreamName${id}')`,
    );

  problems
    .addAll(validateResultsBucketProps(props.resultsBucket ?? {}))
    .addAll(
      validateGlueCatalogProps(
        props.glueDatabaseName !== undefined ? { databaseName: props.glueDatabaseName } : {},
      ),
    )
    .addAll(
      validateAthenaWorkgroupProps(
        props.athenaWorkgroupName !== undefined ? { workgroupName: props.athenaWorkgroupName } : {},
      ),
    )
    .addAll(validateTickScheduleProps(props.tick ?? {}));

  for (const deployment of props.pipelines) {
    const spec = deployment.spec;
    const at = `Pipeline '${spec.name}': `;
    const own = new Problems()
      .pattern('Pipeline name', spec.name, PIPELINE_NAME, '1-64 characters from [a-zA-Z0-9_-]')
      .addAll(
        validateIngestStreamProps({
          streamName: spec.source.stream,
          ...(spec.source.shards !== undefined ? { shardCount: spec.source.shards } : {}),
          ...(props.streamRetention ? { retentionPeriod: props.streamRetention } : {}),
        }),
      )
      .check(
        PIPELINE_NAME.test(spec.name) && pascal(spec.name) === '',
        `Pipeline name must contain a letter or digit (given '${spec.name}')`,
      )
      .pattern(
        'Sink table name',
        spec.sink.table,
        SINK_TABLE_NAME,
        '1-255 characters from [a-z0-9_], starting with a letter or digit',
      )
      .check(spec.columns.length === 0, 'At least one result column is required (given 0)')
      .addAll(
        validateOperatorFunctionProps({
          ...props.operator,
          ...deployment.operator,
          eventSource: { ...props.eventSource, ...deployment.eventSource },
        }),
      )
      .addAll(validatePipelineAlarmOptions({ ...props.alarms, ...deployment.alarms }));
    for (const column of spec.columns) {
      own.pattern('Column name', column.name, GLUE_NAME, '1-255 characters from [a-z0-9_]');
      own.check(
        (PARTITION_COLUMNS as readonly string[]).includes(column.name),
        `Column name must not be a partition column (${PARTITION_COLUMNS.join(', ')}) (given '${column.name}')`,
      );
    }
    for (const column of duplicates(spec.columns.map((c) => c.name)))
      own.check(true, `Column names must be unique (given '${column}' more than once)`);
    problems.addAll(own.all.map((p) => at + p));
  }
  return [...problems.all];
}

/** What the stack built for one pipeline. */
export interface DeployedPipeline {
  readonly spec: PipelineSpec;
  readonly stream: kinesis.Stream;
  readonly operator: OperatorFunction;
  readonly tick: TickSchedule;
  /** The Glue table of its sink, unless `analytics` is off. */
  readonly resultTable?: ResultTable;
  readonly alarms: PipelineAlarms;
}

/**
 * The whole of shardflow in one stack, built from pipeline definitions (DESIGN.md §6): one state
 * table, one results bucket, one Glue database, one Athena workgroup and one dashboard shared by
 * all pipelines; per pipeline an encrypted stream, the operator function and its event source
 * mapping, the tick schedule, the Glue result table, sample queries and alarms.
 *
 * @example
 * import { defaultPipelines } from '../functions/pipelines';
 * new ShardflowStack(app, 'Shardflow', { pipelines: defaultPipelines });
 */
export class ShardflowStack extends Stack {
  public readonly stateTable: StateTable;
  public readonly resultsBucket: ResultsBucket;
  /** The Glue database, unless `analytics` is off. */
  public readonly catalog?: GlueCatalog;
  /** The Athena workgroup, unless `analytics` is off. */
  public readonly athena?: AthenaWorkgroup;
  public readonly dashboard: ShardflowDashboard;
  /** Per pipeline, by name. */
  public readonly pipelines: ReadonlyMap<string, DeployedPipeline>;

  public constructor(scope: Construct, id: string, props: ShardflowStackProps) {
    super(scope, id, props);
    new Problems()
      .addAll(validateShardflowStackProps(props))
      .throwIfAny(`ShardflowStack '${this.node.path}'`);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.stateTable = new StateTable(this, 'State', { ...props.stateTable, removalPolicy });
    this.resultsBucket = new ResultsBucket(this, 'Results', { ...props.resultsBucket, removalPolicy });
    if (props.analytics ?? true) {
      this.catalog = new GlueCatalog(
        this,
        'Catalog',
        props.glueDatabaseName !== undefined ? { databaseName: props.glueDatabaseName } : {},
      );
      this.athena = new AthenaWorkgroup(this, 'Athena', {
        bucket: this.resultsBucket.bucket,
        databaseName: this.catalog.databaseName,
        ...(props.athenaWorkgroupName !== undefined ? { workgroupName: props.athenaWorkgroupName } : {}),
      });
    }
    this.dashboard = new ShardflowDashboard(this, 'Dashboard');

    const built = new Map<string, DeployedPipeline>();
    for (const deployment of props.pipelines)
      built.set(deployment.spec.name, this.addPipeline(deployment, props, removalPolicy));
    this.pipelines = built;

    new CfnOutput(this, 'ResultsBucketName', {
      value: this.resultsBucket.bucket.bucketName,
      description: 'Results bucket',
    });
    new CfnOutput(this, 'StateTableName', {
      value: this.stateTable.table.tableName,
      description: 'Window state table',
    });
    if (this.athena && this.catalog) {
      new CfnOutput(this, 'AthenaWorkgroupName', {
        value: this.athena.workgroupName,
        description: 'Athena workgroup',
      });
      new CfnOutput(this, 'GlueDatabaseName', {
        value: this.catalog.databaseName,
        description: 'Glue database',
      });
    }
  }

  private addPipeline(
    deployment: PipelineDeployment,
    props: ShardflowStackProps,
    removalPolicy: RemovalPolicy,
  ): DeployedPipeline {
    const spec = deployment.spec;
    const scope = this.pipelineScope(spec.name);
    const shared = {
      pipeline: spec.name,
      sinkTable: spec.sink.table,
      stateTable: this.stateTable,
      resultsBucket: this.resultsBucket,
    };

    const stream = new IngestStream(this, `${scope}Stream`, {
      streamName: spec.source.stream,
      ...(spec.source.shards !== undefined ? { shardCount: spec.source.shards } : {}),
      ...(props.streamRetention ? { retentionPeriod: props.streamRetention } : {}),
      removalPolicy,
    }).stream;
    const operator = new OperatorFunction(this, `${scope}Operator`, {
      ...shared,
      ...props.operator,
      ...deployment.operator,
      stream,
      ...(props.operatorEntry !== undefined ? { entry: props.operatorEntry } : {}),
      eventSource: { ...props.eventSource, ...deployment.eventSource },
    });
    const failurePrefix = `${LAMBDA_FAILURE_PREFIX}${operator.eventSource.eventSourceMappingId}/`;
    const tick = new TickSchedule(this, `${scope}Tick`, {
      ...shared,
      ...props.tick,
      stream,
      failurePrefix,
      ...(props.tickEntry !== undefined ? { entry: props.tickEntry } : {}),
    });
    let resultTable: ResultTable | undefined;
    if (this.catalog && this.athena) {
      resultTable = new ResultTable(this, `${scope}Table`, {
        catalog: this.catalog,
        bucket: this.resultsBucket.bucket,
        tableName: spec.sink.table,
        columns: spec.columns,
        description: `Results of shardflow pipeline ${spec.name}`,
      });
      this.athena.addSampleQueries(resultTable);
    }
    const alarms = new PipelineAlarms(this, `${scope}Alarms`, {
      ...props.alarms,
      ...deployment.alarms,
      pipeline: spec.name,
      operator: operator.function,
      stream,
    });
    this.dashboard.addPipeline(spec.name, operator.function, alarms);

    new CfnOutput(this, `StreamName${scope}`, {
      value: stream.streamName,
      description: `Source stream of pipeline ${spec.name}`,
    });
    new CfnOutput(this, `FailurePrefix${scope}`, {
      value: failurePrefix,
      description: `Where Lambda records the batches of pipeline ${spec.name} it skipped (shardflow replay-failures replays them)`,
    });
    return { spec, stream, operator, tick, ...(resultTable ? { resultTable } : {}), alarms };
  }

  private pipelineScope(name: string): string {
    return pascal(name);
  }

  /** The operator function of `pipeline`, e.g. for extra grants. */
  public operatorOf(pipeline: string): nodejs.NodejsFunction | undefined {
    return this.pipelines.get(pipeline)?.operator.function;
  }
}
