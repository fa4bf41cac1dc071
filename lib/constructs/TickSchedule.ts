import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ENV, SERVICE_NAMES } from '../../functions/core/constants';
import { Problems } from '../validation';
import {
  PipelineFunction,
  type PipelineFunctionOptions,
  type PipelineResourcesProps,
  pipelineResourceNames,
  pipelineSource,
  validatePipelineFunctionOptions,
} from './PipelineFunction';

/** Default handler module of tick functions, relative to the repository root. */
/** Props of {@link TickSchedule}. */
export interface TickScheduleProps extends PipelineResourcesProps {
  /**
   * Time between ticks, 1–60 whole minutes.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * Key prefix of the operator mapping's on-failure records in the results bucket
   * (`aws/lambda/<mapping-uuid>/`): the tick counts them as the `FailedBatchesPending` metric.
   * @default - skipped batches are not counted
   */
  readonly failurePrefix?: string;
}

/** Every problem with the sizing and interval props, each naming the given value. */
export function validateTickScheduleProps(
  props: Pick<TickScheduleProps, keyof PipelineFunctionOptions | 'interval'>,
): string[] {
  const problems = new Problems()
    .addAll(validatePipelineFunctionOptions('Tick function', props))
    .durationRange('Tick interval', props.interval, Duration.minutes(1), Duration.minutes(60));
  const interval = props.interval;
  if (interval && !interval.isUnresolved()) {
    const seconds = interval.toSeconds({ integral: false });
    problems.check(
      seconds % 60 !== 0,
      `Tick interval must be a whole number of minutes (given ${interval.toHumanString()})`,
    );
  }
  return [...problems.all];
}

/**
 * The scheduled tick of one pipeline (DESIGN.md §2): Lambda only runs when records arrive, so an
 * EventBridge rule invokes the tick function every minute to advance idle shards and close windows.
 */
export class TickSchedule extends Construct {
  /** The tick function. */
  public readonly function: nodejs.NodejsFunction;
  /** The schedule rule. */
  public readonly rule: events.Rule;

  public constructor(scope: Construct, id: string, props: TickScheduleProps) {
    super(scope, id);
    new Problems().addAll(validateTickScheduleProps(props)).throwIfAny(`TickSchedule '${this.node.path}'`);

    this.function = new PipelineFunction(this, 'Tick', {
      ...props,
      entry: props.entry,
      ...pipelineResourceNames(props),
      serviceName: SERVICE_NAMES.TICK,
      description: `shardflow tick of pipeline ${props.pipeline}`,
    }).function;

    props.stateTable.grantStateAccess(this.function, props.pipeline);
    if (props.sinkTable !== undefined) props.resultsBucket.grantResultWrites(this.function, props.sinkTable);
    const source = pipelineSource(this, props);
    // It sweeps the side outputs of idle shards that no commit will sweep soon (list and delete, no put).
    props.resultsBucket.grantSideOutputSweep(this.function, {
      stream: props.sourceName ?? source.name,
      ...(props.sinkTable !== undefined ? { table: props.sinkTable } : {}),
    });
    if (source.table !== undefined)
      // It lists the open shards of the table's stream by its ARN: DescribeStream on that stream only.
      this.function.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:DescribeStream'], resources: [source.streamArn] }),
      );
    else source.stream.grant(this.function, 'kinesis:ListShards', 'kinesis:DescribeStreamSummary');
    if (props.failurePrefix !== undefined) {
      this.function.addEnvironment(ENV.FAILURE_PREFIX, props.failurePrefix);
      // Counting only: list under the mapping's failure prefix, read nothing.
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [props.resultsBucket.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${props.failurePrefix}*`] } },
        }),
      );
    }

    this.rule = new events.Rule(this, 'Rule', {
      description: `shardflow tick of pipeline ${props.pipeline}`,
      schedule: events.Schedule.rate(props.interval ?? Duration.minutes(1)),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: Duration.minutes(2) }),
    );
  }
}
