import { CfnOutput, type Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { publishStreamOf } from '../../functions/core/engine/streamTap';
import type { StateShape } from '../../functions/core/state/stateFingerprint';
import type { PipelineSpec } from '../../functions/core/types';
import { AthenaWorkgroup, validateAthenaWorkgroupProps } from '../constructs/AthenaWorkgroup';
import { GlueCatalog, validateGlueCatalogProps } from '../constructs/GlueCatalog';
import { pipelineEntries } from '../constructs/pipelineEntries';
import type { PipelineAlarmOptions } from '../constructs/PipelineAlarms';
import type { PipelineFunctionOptions } from '../constructs/PipelineFunction';
import {
  ResultsBucket,
  type ResultsBucketProps,
  validateResultsBucketProps,
} from '../constructs/ResultsBucket';
import type { ShardEventSourceOptions } from '../constructs/ShardEventSource';
import { ShardflowDashboard } from '../constructs/ShardflowDashboard';
import {
  type SourceTableKey,
  validateSourceTableDeployment,
  withSourceTable,
} from '../constructs/SourceTable';
import {
  duplicates,
  pascal,
  PIPELINE_NAME,
  type PipelineSettings,
  ShardflowPipeline,
  type ShardflowPipelineProps,
  type TickOptions,
  validatePipelineDeployment,
} from '../constructs/ShardflowPipeline';
import { StateTable, type StateTableProps } from '../constructs/StateTable';
import { Problems } from '../validation';

export type { TickOptions } from '../constructs/ShardflowPipeline';

/**
 * A pipeline as the stack deploys it: the pipeline module's serialisable `spec` (a pipeline object
 * from `functions/pipelines` satisfies this as is), plus optional per-pipeline deployment settings
 * that override the stack-wide ones.
 */
export interface PipelineDeployment {
  /**
   * The pipeline module (relative to the working directory): its default export, or its only exported
   * pipeline. Each function's bundle is built from it alone.
   */
  readonly entry?: string;
  /**
   * Instead of `entry`: the definition with prebuilt handler modules (the stack-wide `operatorEntry` and
   * `tickEntry`), as tests deploy tiny fixture handlers.
   */
  readonly spec?: PipelineSpec;
  /**
   * With `spec`: the definition's state shape (a pipeline object carries it as is), for the upgrade check.
   */
  readonly stateShape?: StateShape;
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
  /**
   * The table a table-source pipeline (`fromTable`) reads: required for one, refused otherwise (see
   * `ShardflowPipelineProps.table`).
   * @default - none (a Kinesis source)
   */
  readonly table?: dynamodb.ITable;
  /**
   * Instead of `table`: the key of the table a table-source pipeline reads, which the stack then creates (named
   * and streamed as `fromTable()` says; see `SourceTable`). What the example app gives when the pipeline's
   * module exports `sourceTable`.
   * @default - none
   */
  readonly sourceTable?: SourceTableKey;
}

/** Props of {@link ShardflowStack}. */
export interface ShardflowStackProps extends StackProps {
  /** The pipelines to deploy: at least one, names, streams and sink tables unique. */
  readonly pipelines: readonly PipelineDeployment[];
  /**
   * Operator handler module (absolute) for the pipelines given by `spec`; `entry` pipelines get their own.
   * @default - none: every pipeline needs an `entry`
   */
  readonly operatorEntry?: string;
  /** Tick handler module (absolute) for the pipelines given by `spec`. */
  readonly tickEntry?: string;
  /**
   * Project root of `operatorEntry`/`tickEntry` (its `package-lock.json` pins the bundles).
   * @default process.cwd()
   */
  readonly projectRoot?: string;
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
  readonly resultsBucket?: Omit<ResultsBucketProps, 'removalPolicy' | 'bucket'>;
  /**
   * State table options (customer-managed key).
   * @default - AWS-managed encryption
   */
  readonly stateTable?: Omit<StateTableProps, 'removalPolicy' | 'table'>;
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

/** A deployment with its definition and handler modules: generated from `entry`, or the stack's for a `spec`. */
interface ResolvedDeployment {
  readonly deployment: PipelineDeployment;
  readonly handlers: NonNullable<ShardflowPipelineProps['handlers']>;
}

function resolveDeployments(props: ShardflowStackProps): ResolvedDeployment[] {
  return props.pipelines.map((deployment) => {
    if (deployment.entry !== undefined) return { deployment, handlers: pipelineEntries(deployment.entry) };
    const { spec } = deployment;
    if (spec === undefined)
      throw new Error('ShardflowStack: a pipeline needs an entry (its module) or a spec (given neither)');
    if (deployment.stateShape === undefined)
      throw new Error(
        `ShardflowStack: pipeline '${spec.name}' is given as a spec without its stateShape; give its module as entry`,
      );
    if (props.operatorEntry === undefined || props.tickEntry === undefined)
      throw new Error(
        `ShardflowStack: pipeline '${spec.name}' is given as a spec without operatorEntry/tickEntry; give its module as entry`,
      );
    return {
      deployment,
      handlers: {
        spec,
        stateShape: deployment.stateShape,
        operatorEntry: props.operatorEntry,
        tickEntry: props.tickEntry,
        projectRoot: props.projectRoot ?? process.cwd(),
      },
    };
  });
}

/** A pipeline's settings: its own merged over the stack's. */
function settingsOf(
  deployment: PipelineDeployment,
  props: ShardflowStackProps,
): PipelineSettings & { readonly table?: dynamodb.ITable } {
  return {
    ...(deployment.table !== undefined ? { table: deployment.table } : {}),
    eventSource: { ...props.eventSource, ...deployment.eventSource },
    operator: { ...props.operator, ...deployment.operator },
    tick: { ...props.tick },
    alarms: { ...props.alarms, ...deployment.alarms },
    ...(props.streamRetention !== undefined ? { streamRetention: props.streamRetention } : {}),
  };
}

/**
 * The pipelines of a cycle of `.toStream()` or `.sink({ toStream })` links (a publishes to b's source, …, back to a), by name, the first
 * repeated at the end; undefined when there is none.
 */
function publishCycle(specs: readonly PipelineSpec[]): string[] | undefined {
  const bySource = new Map(specs.map((s) => [s.source.stream, s]));
  for (const start of specs) {
    const path = [start.name];
    for (let at = start, to = publishStreamOf(at); to !== undefined; to = publishStreamOf(at)) {
      const next = bySource.get(to);
      if (next === undefined) break;
      path.push(next.name);
      if (next.name === start.name) return path;
      if (path.length > specs.length) break;
      at = next;
    }
  }
  return undefined;
}

/** `resolved` ordered so that a pipeline comes after the one reading the stream it publishes to (no cycles). */
function readersFirst(resolved: readonly ResolvedDeployment[]): ResolvedDeployment[] {
  const bySource = new Map(resolved.map((r) => [r.handlers.spec.source.stream, r]));
  const ordered: ResolvedDeployment[] = [];
  const visit = (r: ResolvedDeployment): void => {
    if (ordered.includes(r)) return;
    const to = publishStreamOf(r.handlers.spec);
    const reader = to === undefined ? undefined : bySource.get(to);
    if (reader !== undefined && reader !== r) visit(reader);
    ordered.push(r);
  };
  resolved.forEach(visit);
  return ordered;
}

/** Every problem with the stack's props, each naming the given value; empty when valid. */
export function validateShardflowStackProps(
  props: ShardflowStackProps,
  specs: readonly PipelineSpec[] = props.pipelines.flatMap((p) => (p.spec === undefined ? [] : [p.spec])),
): string[] {
  const problems = new Problems();
  problems.check(specs.length === 0, 'At least one pipeline is required (given 0)');
  for (const name of duplicates(specs.map((s) => s.name)))
    problems.check(true, `Pipeline names must be unique (given '${name}' more than once)`);
  for (const stream of duplicates(specs.map((s) => s.source.stream)))
    problems.check(true, `Pipeline streams must be unique (given '${stream}' more than once)`);
  for (const stream of duplicates(specs.flatMap((s) => publishStreamOf(s) ?? [])))
    problems.check(true, `Streams pipelines publish to must be unique (given '${stream}' more than once)`);
  const cycle = publishCycle(specs);
  problems.check(
    cycle !== undefined,
    `Pipelines must not feed each other in a cycle (given ${cycle?.join(' → ') ?? ''})`,
  );
  for (const table of duplicates(specs.flatMap((s) => (s.sink === undefined ? [] : [s.sink.table]))))
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
    );
  props.pipelines.forEach((deployment, i) => {
    const spec = deployment.spec ?? specs[i];
    if (spec === undefined) return;
    // One pass: a sourceTable meets the table requirement, and the pipeline's own rules apply all the same.
    problems
      .addAll(validateSourceTableDeployment(spec, deployment))
      .addAll(validatePipelineDeployment(spec, settingsOf(deployment, props), { tableChecked: true }));
  });
  return [...problems.all];
}

/**
 * The whole of shardflow in one stack, built from pipeline definitions (DESIGN.md §6): one state
 * table, one results bucket, one Glue database, one Athena workgroup and one dashboard shared by
 * all pipelines; per pipeline an encrypted stream, the operator function and its event source
 * mapping, the tick schedule, the Glue result table, sample queries and alarms.
 *
 * @example
 * new ShardflowStack(app, 'Shardflow', { pipelines: [{ entry: 'pipelines/orders.ts' }] });
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
  public readonly pipelines: ReadonlyMap<string, ShardflowPipeline>;

  public constructor(scope: Construct, id: string, props: ShardflowStackProps) {
    super(scope, id, props);
    const given = resolveDeployments(props);
    const specs = given.map((r) => r.handlers.spec);
    new Problems()
      .addAll(validateShardflowStackProps(props, specs))
      .throwIfAny(`ShardflowStack '${this.node.path}'`);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const resolved = given.map((r) => ({
      ...r,
      deployment: withSourceTable(this, r.handlers.spec, r.deployment, removalPolicy),
    }));

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

    const built = new Map<string, ShardflowPipeline>();
    // A pipeline reading another's output is built first: its source stream is the one the other publishes to.
    const readers = new Map<string, string>(
      resolved.map((r) => [r.handlers.spec.source.stream, r.handlers.spec.name]),
    );
    for (const { deployment, handlers } of readersFirst(resolved)) {
      const to = publishStreamOf(handlers.spec);
      const reader = to === undefined ? undefined : readers.get(to);
      const publishStream = reader === undefined ? undefined : built.get(reader)?.stream;
      built.set(
        handlers.spec.name,
        new ShardflowPipeline(this, pascal(handlers.spec.name), {
          ...settingsOf(deployment, props),
          handlers,
          stateTable: this.stateTable,
          resultsBucket: this.resultsBucket,
          analytics: this.catalog !== undefined,
          ...(this.catalog !== undefined ? { catalog: this.catalog } : {}),
          ...(this.athena !== undefined ? { athena: this.athena } : {}),
          dashboard: this.dashboard,
          removalPolicy,
          ...(publishStream !== undefined ? { publishStream } : {}),
        }),
      );
    }
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

  /** The operator function of `pipeline`, e.g. for extra grants. */
  public operatorOf(pipeline: string): nodejs.NodejsFunction | undefined {
    return this.pipelines.get(pipeline)?.operator.function;
  }
}
