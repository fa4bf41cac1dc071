/**
 * One shardflow pipeline in a CDK app: its stream, operator (with its event source mapping) and tick
 * functions bundled from the pipeline's own module, its Glue result table and sample queries, alarms and
 * dashboard widgets. The state table, results bucket, Glue database, Athena workgroup and dashboard are
 * shared when given (`ShardflowStack` shares them between its pipelines) and created otherwise.
 *
 * @example
 * // In the user's own CDK app (cdk.json runs it with tsx):
 * new ShardflowPipeline(this, 'Orders', { entry: 'pipelines/orders.ts' });
 */
import { MIN_EVENT_TIME } from '../../functions/core/engine/definition';
import { partitionDay } from '../../functions/core/state/paths';
import { earliestWindowStart } from '../../functions/core/windows/windowSpecs';
import { CfnOutput, type Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV, PARTITION_COLUMNS } from '../../functions/core/constants';
import { publishStreamOf } from '../../functions/core/engine/streamTap';
import type { StateShape } from '../../functions/core/state/stateFingerprint';
import type { PipelineSpec } from '../../functions/core/types';
import { pascal, PIPELINE_OUTPUTS } from '../outputNames';
import { claim, environmentOf, sharedName } from '../claims';
import { ShardflowCdkError } from '../errors';
import { Problems } from '../validation';
import { AthenaWorkgroup } from './AthenaWorkgroup';
import { GLUE_NAME, GlueCatalog } from './GlueCatalog';
import { IngestStream, validateIngestStreamProps } from './IngestStream';
import { OperatorFunction, validateOperatorFunctionProps } from './OperatorFunction';
import { type PipelineAlarmOptions, PipelineAlarms, validatePipelineAlarmOptions } from './PipelineAlarms';
import { pipelineEntries } from './pipelineEntries';
import type { PipelineFunctionOptions } from './PipelineFunction';
import { LAMBDA_FAILURE_PREFIX, ResultsBucket } from './ResultsBucket';
import { ResultTable } from './ResultTable';
import { type ShardEventSourceOptions, validateTableEventSourceOptions } from './ShardEventSource';
import { ShardflowDashboard } from './ShardflowDashboard';
import { StateTable } from './StateTable';
import { TickSchedule, validateTickScheduleProps } from './TickSchedule';
import { type OpenWindowsChoice, openWindowsChoice, UpgradeCheck } from './UpgradeCheck';

/** Tick function sizing and schedule. */
export interface TickOptions extends PipelineFunctionOptions {
  /**
   * Time between ticks, 1–60 whole minutes.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
}

/** Deployment settings of one pipeline. */
export interface PipelineSettings {
  /**
   * Event source mapping settings.
   * @default - see `SHARD_EVENT_SOURCE_DEFAULTS`
   */
  readonly eventSource?: ShardEventSourceOptions;
  /**
   * Operator function sizing.
   * @default - 512 MB, 60 s, unreserved concurrency
   */
  readonly operator?: PipelineFunctionOptions;
  /**
   * Tick function sizing and interval.
   * @default - 512 MB, 60 s, every minute
   */
  readonly tick?: TickOptions;
  /**
   * Alarm thresholds.
   * @default - see `PipelineAlarmOptions`
   */
  readonly alarms?: PipelineAlarmOptions;
  /**
   * Retention of the ingest stream (when this construct creates it), 24 hours – 365 days.
   * @default Duration.hours(24)
   */
  readonly streamRetention?: Duration;
}

/** Props of {@link ShardflowPipeline}. */
export interface ShardflowPipelineProps extends PipelineSettings {
  /**
   * The pipeline module (TypeScript or JavaScript, relative to the working directory): its default export,
   * or its only exported pipeline, is deployed; the functions' bundles are built from it alone. Required
   * unless `handlers` is given.
   */
  readonly entry?: string;
  /**
   * The project the module belongs to: its `package-lock.json` pins the bundles' dependencies.
   * @default - the nearest directory above the module holding a `package-lock.json`
   */
  readonly projectRoot?: string;
  /**
   * An existing stream to read instead of creating one; its name, when known at synth, must be the pipeline's
   * `source.stream`. Side outputs are written and granted under `source.stream` whatever the stream's name.
   * @default - an encrypted stream named by the pipeline's `source`
   */
  readonly stream?: kinesis.IStream;
  /**
   * The table a table-source pipeline (`fromTable`) reads, required for one and refused otherwise: its name
   * must be the pipeline's `source.stream`, and it must have a stream (of the declared view type when that is
   * known at synth). No Kinesis stream is created; the operator's mapping reads the table's stream.
   * @default - none (a Kinesis source)
   */
  readonly table?: dynamodb.ITable;
  /**
   * The stream the pipeline publishes to (`.toStream()`, or `.sink({ toStream })` for its result rows), when
   * another construct holds it (`ShardflowStack` passes the one it creates for the pipelines reading it); its
   * name must be the one the pipeline publishes to. Ignored when the pipeline does not publish.
   * @default - an encrypted stream named by the stream the pipeline publishes to, with the source stream's settings
   */
  readonly publishStream?: kinesis.IStream;
  /**
   * The state table: shared with other pipelines (`StateTable`), or an existing table (see
   * `StateTableProps.table` for its key and TTL).
   * @default - a new state table
   */
  readonly stateTable?: StateTable | dynamodb.ITable;
  /**
   * The results bucket: shared with other pipelines (`ResultsBucket`), or an existing bucket (see
   * `ResultsBucketProps.bucket` for what its owner gives it).
   * @default - a new results bucket
   */
  readonly resultsBucket?: ResultsBucket | s3.IBucket;
  /**
   * Create the Glue table and sample Athena queries (a database and workgroup too, unless given). Turn off
   * where those services do not exist (LocalStack Community).
   * @default true
   */
  readonly analytics?: boolean;
  /**
   * @default - the stack's Glue database named `shardflow` (when `analytics`), created under its first pipeline
   * given none and shared by the others (`catalog` of that pipeline)
   */
  readonly catalog?: GlueCatalog;
  /**
   * @default - the stack's Athena workgroup named `shardflow` (when `analytics`), created under its first
   * pipeline given none (query results in that pipeline's results bucket) and shared by the others (`athena`
   * of that pipeline)
   */
  readonly athena?: AthenaWorkgroup;
  /** @default - a new dashboard */
  readonly dashboard?: ShardflowDashboard;
  /**
   * Removal policy of what this construct creates that holds data (stream, table, bucket).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * What a deploy does with the open windows of a change that cannot carry them over (window, key, an
   * aggregate changed or removed): 'refuse' fails the deploy in one line before the functions update,
   * 'discard' drops them (never emitted). For a whole app: `cdk deploy -c shardflow:openWindows=discard`.
   * @default - the `shardflow:openWindows` context value, else 'refuse'
   */
  readonly openWindows?: OpenWindowsChoice;
  /**
   * Prebuilt handler modules instead of the ones generated from `entry` (tests use tiny fixtures).
   * @default - generated from `entry`
   */
  readonly handlers?: {
    readonly spec: PipelineSpec;
    /** The definition's state shape (`CompiledPipeline.stateShape`), for the upgrade check. */
    readonly stateShape: StateShape;
    readonly operatorEntry: string;
    readonly tickEntry: string;
    readonly projectRoot: string;
  };
}

/** A Glue table name that the handlers also accept as an S3 key segment (leading letter or digit). */
const SINK_TABLE_NAME = /^[a-z0-9][a-z0-9_]{0,254}$/;

/** Pipeline names: used in construct ids, alarm names and the `pipeline` metric dimension. */
export const PIPELINE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export { pascal };

export function duplicates(values: readonly string[]): string[] {
  const seen = new Map<string, number>();
  for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([v]) => v);
}

/**
 * Every problem with one pipeline's definition and settings, each naming the given value; empty when valid.
 * `options.tableChecked`: the caller checks that a table-source pipeline has its table (`ShardflowStack`:
 * given, or created from `sourceTable`), so a missing `settings.table` is not one here.
 */
export function validatePipelineDeployment(
  spec: PipelineSpec,
  settings: PipelineSettings & { readonly table?: dynamodb.ITable },
  options: { readonly tableChecked?: boolean } = {},
): string[] {
  const at = `Pipeline '${spec.name}': `;
  const own = new Problems()
    .pattern('Pipeline name', spec.name, PIPELINE_NAME, '1-64 characters from [a-zA-Z0-9_-]')
    .addAll(
      validateIngestStreamProps({
        streamName: spec.source.stream,
        ...(spec.source.shards !== undefined ? { shardCount: spec.source.shards } : {}),
        ...(settings.streamRetention ? { retentionPeriod: settings.streamRetention } : {}),
      }),
    )
    .check(
      spec.source.table !== undefined && settings.table === undefined && options.tableChecked !== true,
      `Pipeline reads table '${spec.source.stream}' (fromTable): give that table (table: dynamodb.ITable, with a ${spec.source.table?.view} stream)`,
    )
    .check(
      spec.source.table === undefined && settings.table !== undefined,
      `A table is given but the pipeline reads stream '${spec.source.stream}': read the table with fromTable(), or give no table`,
    )
    .check(
      PIPELINE_NAME.test(spec.name) && pascal(spec.name) === '',
      `Pipeline name must contain a letter or digit (given '${spec.name}')`,
    )
    // A publish-only pipeline has neither result table nor columns; a pipeline with a sink has both.
    .check(
      spec.sink === undefined && spec.publish === undefined,
      'A pipeline without a result table must publish (toStream): give it a sink or a toStream',
    )
    .check(
      spec.sink !== undefined && spec.columns.length === 0,
      'At least one result column is required (given 0)',
    )
    .addAll(validateOperatorFunctionProps({ ...settings.operator, eventSource: settings.eventSource ?? {} }))
    // A table source's mapping options, however its table comes.
    .addAll(
      spec.source.table !== undefined ? validateTableEventSourceOptions(settings.eventSource ?? {}) : [],
    )
    .addAll(validatePipelineAlarmOptions(settings.alarms ?? {}))
    .addAll(validateTickScheduleProps(settings.tick ?? {}));
  if (spec.sink !== undefined)
    own.pattern(
      'Sink table name',
      spec.sink.table,
      SINK_TABLE_NAME,
      '1-255 characters from [a-z0-9_], starting with a letter or digit',
    );
  for (const column of spec.columns) {
    own.pattern('Column name', column.name, GLUE_NAME, '1-255 characters from [a-z0-9_]');
    own.check(
      (PARTITION_COLUMNS as readonly string[]).includes(column.name),
      `Column name must not be a partition column (${PARTITION_COLUMNS.join(', ')}) (given '${column.name}')`,
    );
  }
  for (const column of duplicates(spec.columns.map((c) => c.name)))
    own.check(true, `Column names must be unique (given '${column}' more than once)`);
  return own.all.map((p) => at + p);
}

/** The name of a given stream when it is known at synth time (a literal `streamName`, or an imported ARN). */
function literalStreamName(stream: kinesis.IStream | undefined): string | undefined {
  if (stream === undefined) return undefined;
  const cfn = stream.node.defaultChild as { name?: unknown } | undefined;
  const name = typeof cfn?.name === 'string' ? cfn.name : stream.streamName;
  return Token.isUnresolved(name) ? undefined : name;
}

/** The name and stream view type of a given table when they are known at synth time. */
function literalTable(table: dynamodb.ITable | undefined): { name?: string; view?: string } {
  if (table === undefined) return {};
  const cfn = table.node.defaultChild as
    { tableName?: unknown; streamSpecification?: { streamViewType?: unknown } } | undefined;
  const name = typeof cfn?.tableName === 'string' ? cfn.tableName : table.tableName;
  const view = cfn?.streamSpecification?.streamViewType;
  return {
    ...(Token.isUnresolved(name) ? {} : { name }),
    ...(typeof view === 'string' && !Token.isUnresolved(view) ? { view } : {}),
  };
}

/**
 * The Glue database and Athena workgroup a stack's pipelines share when given none, by stack. Each is made
 * under the first pipeline that needs it, with the id a pipeline's own had (`<pipeline>/Catalog`,
 * `<pipeline>/Athena`) before pipelines shared them: a stack deployed with one pipeline keeps their logical
 * ids, where a new id would make `cdk deploy` create a second database and workgroup of the same fixed name
 * (AlreadyExists) and then delete the deployed ones.
 */
const stackDefaults = new WeakMap<Stack, { catalog?: GlueCatalog; athena?: AthenaWorkgroup }>();

export class ShardflowPipeline extends Construct {
  public readonly spec: PipelineSpec;
  /** The Kinesis stream it reads; absent for a table source (`table`). */
  public readonly stream?: kinesis.IStream;
  /** The table whose stream it reads (a table source). */
  public readonly table?: dynamodb.ITable;
  /** The stream the pipeline publishes to (`.toStream()` or `.sink({ toStream })`), if it publishes. */
  public readonly publishStream?: kinesis.IStream;
  public readonly operator: OperatorFunction;
  public readonly tick: TickSchedule;
  public readonly stateTable: StateTable;
  public readonly resultsBucket: ResultsBucket;
  /** The Glue table of its sink, unless `analytics` is off. */
  public readonly resultTable?: ResultTable;
  /** The Glue database of its result table (given, or the stack's shared one), unless `analytics` is off. */
  public readonly catalog?: GlueCatalog;
  /** The Athena workgroup of its sample queries (given, or the stack's shared one), unless `analytics` is off. */
  public readonly athena?: AthenaWorkgroup;
  public readonly alarms: PipelineAlarms;
  /** The upgrade check both functions wait for. */
  public readonly upgradeCheck: UpgradeCheck;

  public constructor(scope: Construct, id: string, props: ShardflowPipelineProps) {
    super(scope, id);
    const entries =
      props.handlers ?? (props.entry !== undefined ? pipelineEntries(props.entry, props) : undefined);
    if (entries === undefined)
      throw new ShardflowCdkError(`ShardflowPipeline '${this.node.path}': give entry, the pipeline module`);
    const spec = entries.spec;
    this.spec = spec;
    const stack = Stack.of(this);
    if (stack.node.tryFindChild(PIPELINE_OUTPUTS.stream(spec.name)) !== undefined)
      throw new ShardflowCdkError(
        `Pipeline '${spec.name}' is already deployed in stack ${stack.stackName}: each pipeline once per stack`,
      );
    const given = literalStreamName(props.stream);
    // Records (`.toStream()`) or result rows (`.sink({ toStream })`): one publish stream a pipeline.
    const publishes = publishStreamOf(spec);
    const givenPublish = publishes === undefined ? undefined : literalStreamName(props.publishStream);
    const givenTable = literalTable(props.table);
    const view = spec.source.table?.view;
    new Problems()
      .addAll(validatePipelineDeployment(spec, props))
      .addAll(openWindowsChoice(this, props.openWindows).problems)
      .check(
        given !== undefined && given !== spec.source.stream,
        `The given stream must be the pipeline's source stream '${spec.source.stream}' (given '${given}')`,
      )
      .check(
        props.table !== undefined && props.table.tableStreamArn === undefined,
        `The given table has no stream: enable one (stream: StreamViewType.${view ?? 'NEW_AND_OLD_IMAGES'}), or import it with its tableStreamArn`,
      )
      .check(
        givenTable.name !== undefined && givenTable.name !== spec.source.stream,
        `The given table must be the table the pipeline reads '${spec.source.stream}' (given '${givenTable.name}')`,
      )
      .check(
        view !== undefined && givenTable.view !== undefined && givenTable.view !== view,
        `The given table's stream must carry the view the pipeline reads, ${view} (given ${givenTable.view})`,
      )
      .check(
        spec.source.table !== undefined && props.stream !== undefined,
        `Pipeline reads table '${spec.source.stream}' (fromTable): give its table, not a stream`,
      )
      .check(
        givenPublish !== undefined && givenPublish !== publishes,
        `The given publish stream must be the stream the pipeline publishes to '${publishes}' (given '${givenPublish}')`,
      )
      .throwIfAny(`ShardflowPipeline '${this.node.path}'`);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.stateTable =
      props.stateTable instanceof StateTable
        ? props.stateTable
        : new StateTable(this, 'State', props.stateTable ? { table: props.stateTable } : { removalPolicy });
    this.resultsBucket =
      props.resultsBucket instanceof ResultsBucket
        ? props.resultsBucket
        : new ResultsBucket(
            this,
            'Results',
            props.resultsBucket ? { bucket: props.resultsBucket } : { removalPolicy },
          );
    this.claimShared(spec);
    const shared = {
      pipeline: spec.name,
      // A publish-only pipeline writes no results.
      ...(spec.sink !== undefined ? { sinkTable: spec.sink.table } : {}),
      stateTable: this.stateTable,
      resultsBucket: this.resultsBucket,
      projectRoot: entries.projectRoot,
    };
    // A table source reads the table's stream: no Kinesis stream is created.
    const source =
      props.table !== undefined
        ? { table: props.table }
        : {
            stream:
              props.stream ??
              new IngestStream(this, 'Stream', {
                streamName: spec.source.stream,
                ...(spec.source.shards !== undefined ? { shardCount: spec.source.shards } : {}),
                ...(props.streamRetention ? { retentionPeriod: props.streamRetention } : {}),
                removalPolicy,
              }).stream,
          };
    this.stream = source.stream;
    this.table = source.table;
    // Side outputs are filed under the source's name as the pipeline gives it (`clean/<source.stream>/`, …),
    // whatever the given stream or table is named (its name may be a token, known only at deploy): the
    // operator writes there, the tick sweeps there, and so they are granted there.
    const sourceName = { sourceName: spec.source.stream };
    this.operator = new OperatorFunction(this, 'Operator', {
      ...shared,
      ...props.operator,
      ...source,
      ...sourceName,
      entry: entries.operatorEntry,
      eventSource: props.eventSource ?? {},
    });
    if (publishes !== undefined) {
      const target =
        props.publishStream ??
        new IngestStream(this, 'PublishStream', {
          streamName: publishes,
          ...(props.streamRetention ? { retentionPeriod: props.streamRetention } : {}),
          removalPolicy,
        }).stream;
      this.publishStream = target;
      // Least privilege: PutRecords on that one stream (and encrypting under its key, when it has its own).
      target.grant(this.operator.function, 'kinesis:PutRecords');
      target.encryptionKey?.grantEncrypt(this.operator.function);
    }
    const failurePrefix = `${LAMBDA_FAILURE_PREFIX}${this.operator.eventSource.eventSourceMappingId}/`;
    this.tick = new TickSchedule(this, 'Tick', {
      ...shared,
      ...props.tick,
      ...source,
      ...sourceName,
      failurePrefix,
      entry: entries.tickEntry,
    });
    this.upgradeCheck = new UpgradeCheck(this, 'UpgradeCheck', {
      pipeline: spec.name,
      stateShape: entries.stateShape,
      allowedLatenessMs: spec.time.allowedLatenessMs,
      stateTable: this.stateTable,
      projectRoot: entries.projectRoot,
      ...(props.openWindows !== undefined ? { openWindows: props.openWindows } : {}),
    });
    // The functions (and so their event source mapping and schedule, which refer to them) depend on the
    // check: CloudFormation updates a resource only after everything it depends on is updated, so the new
    // code runs only once the check passed on the state the old code left. When the check fails, the update
    // stops there and CloudFormation rolls back what it changed before; the functions were not touched, and
    // the rollback re-runs the check with the old properties, which the stored state (still of the old shape)
    // passes. The old functions keep running between the check and their update: a window they open then is
    // state of the old shape, which the new definition refuses at close (INCOMPATIBLE_STATE), never merges.
    // Known gap: when a resource updated after the functions fails and the new functions already committed
    // open windows, the rollback's check (old properties, new-shape state) refuses too and the stack ends in
    // UPDATE_ROLLBACK_FAILED (continue the rollback skipping the check); telling a rollback from a deploy needs
    // the stack's status (DescribeStacks), which the check does not read.
    for (const fn of [this.operator.function, this.tick.function])
      fn.node.addDependency(this.upgradeCheck.resource);
    // Both build the pipeline's processor, which names the stream it publishes to. Records are put by the
    // operator only; result rows by whichever runs the close pass (the operator after a batch, or the tick).
    if (this.publishStream !== undefined) {
      for (const fn of [this.operator.function, this.tick.function])
        fn.addEnvironment(ENV.PUBLISH_STREAM, this.publishStream.streamName);
      if (spec.sink?.toStream !== undefined) {
        this.publishStream.grant(this.tick.function, 'kinesis:PutRecords');
        this.publishStream.encryptionKey?.grantEncrypt(this.tick.function);
        // A row over the record limit is dead-lettered instead, by whichever runs the close pass.
        for (const fn of [this.operator.function, this.tick.function])
          this.resultsBucket.grantResultDeadLetters(fn, spec.sink.table);
      }
    }
    // Both sweep side outputs behind the operator's commits, once no invocation that began before them can run.
    const operatorTimeout = this.operator.function.timeout;
    if (operatorTimeout !== undefined)
      for (const fn of [this.operator.function, this.tick.function])
        fn.addEnvironment(ENV.OPERATOR_TIMEOUT_MS, String(operatorTimeout.toMilliseconds()));
    // A publish-only pipeline has no result table: no Glue table, no sample queries.
    if (spec.sink !== undefined && (props.analytics ?? true)) {
      // Not given: the stack's own, shared by its pipelines (the database and the workgroup have fixed names,
      // so a second of either in one account and region fails the deploy).
      const defaults = stackDefaults.get(stack) ?? {};
      stackDefaults.set(stack, defaults);
      const catalog = props.catalog ?? (defaults.catalog ??= new GlueCatalog(this, 'Catalog'));
      const athena =
        props.athena ??
        (defaults.athena ??= new AthenaWorkgroup(this, 'Athena', {
          bucket: this.resultsBucket.bucket,
          databaseName: catalog.databaseName,
        }));
      this.catalog = catalog;
      this.athena = athena;
      this.resultTable = new ResultTable(this, 'Table', {
        catalog,
        bucket: this.resultsBucket.bucket,
        tableName: spec.sink.table,
        columns: spec.columns,
        firstDay: partitionDay(earliestWindowStart(spec.window, MIN_EVENT_TIME)),
        description: `Results of shardflow pipeline ${spec.name}`,
      });
      athena.addSampleQueries(this.resultTable);
    }
    this.alarms = new PipelineAlarms(this, 'Alarms', {
      ...props.alarms,
      pipeline: spec.name,
      operator: this.operator.function,
      tick: this.tick.function,
      publishes: publishes !== undefined,
      publishesResults: spec.sink?.toStream !== undefined,
    });
    (props.dashboard ?? new ShardflowDashboard(this, 'Dashboard')).addPipeline(
      spec.name,
      this.operator.function,
      this.alarms,
    );

    new CfnOutput(stack, PIPELINE_OUTPUTS.stream(spec.name), {
      value: source.stream?.streamName ?? props.table?.tableStreamArn ?? '',
      description:
        source.stream !== undefined
          ? `Source stream of pipeline ${spec.name}`
          : `Stream ARN of table ${spec.source.stream}, the source of pipeline ${spec.name}`,
    });
    new CfnOutput(stack, PIPELINE_OUTPUTS.failurePrefix(spec.name), {
      value: failurePrefix,
      description: `Where Lambda records the batches of pipeline ${spec.name} it skipped (shardflow replay-failures replays them)`,
    });
    new CfnOutput(stack, PIPELINE_OUTPUTS.operatorFunction(spec.name), {
      value: this.operator.function.functionName,
      description: `Operator function of pipeline ${spec.name} (shardflow deploy --drain pauses its event source mappings)`,
    });
    new CfnOutput(stack, PIPELINE_OUTPUTS.tickFunction(spec.name), {
      value: this.tick.function.functionName,
      description: `Tick function of pipeline ${spec.name} (shardflow deploy --drain invokes it with a drain request)`,
    });
  }

  /**
   * What this pipeline keeps to itself in a state table or results bucket others may share: its partitions of
   * the state table (`P#<pipeline>`, `C#<pipeline>#…`, by its name), the side outputs of its source
   * (`clean/<stream>/`, `rejected/<stream>/`: the sweeps of one pipeline delete what no commit of its own
   * wrote there) and its result table's objects (`results/<table>/`, `late/<table>/`, `rejected-results/<table>/`).
   * @throws ShardflowCdkError when another pipeline sharing them took one already.
   */
  private claimShared(spec: PipelineSpec): void {
    const stateTable = this.stateTable.table;
    const state = sharedName(stateTable, stateTable.tableName);
    // A table name is one table per account and region only (a bucket name is one bucket everywhere).
    const tableWhere = Token.isUnresolved(stateTable.tableName)
      ? ''
      : ` in ${environmentOf(stateTable.env, Stack.of(stateTable))}`;
    claim(
      this.node.root,
      `state table ${state}${tableWhere}: pipeline ${spec.name}`,
      this,
      (other) =>
        `ShardflowPipeline '${this.node.path}': pipeline '${spec.name}' is already deployed by '${other}' with state table ${state}: both would read and write the same state partitions. Give one another name or its own state table`,
    );
    const bucket = sharedName(this.resultsBucket.bucket, this.resultsBucket.bucket.bucketName);
    const stream = spec.source.stream;
    claim(
      this.node.root,
      `results bucket ${bucket}: source ${stream}`,
      this,
      (other) =>
        `ShardflowPipeline '${this.node.path}': '${other}' also reads '${stream}' and shares results bucket ${bucket}: their side outputs (clean/${stream}/, rejected/${stream}/) would mix and each one's sweep would delete the other's. Give one of them its own results bucket`,
    );
    if (spec.sink !== undefined) {
      const table = spec.sink.table;
      claim(
        this.node.root,
        `results bucket ${bucket}: table ${table}`,
        this,
        (other) =>
          `ShardflowPipeline '${this.node.path}': '${other}' also writes result table '${table}' to results bucket ${bucket}: their results (results/${table}/, late/${table}/) would mix. Give one another sink table or its own results bucket`,
      );
    }
  }
}
