import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { claimPhysicalName } from '../claims';
import { BUCKET_PREFIX, METRICS, SERVICE_NAMES } from '../../functions/core/constants';
import { METRIC_PERIOD, pipelineMetric } from '../metrics';
import { Problems } from '../validation';

/** Alarm thresholds of one pipeline. */
export interface PipelineAlarmOptions {
  /**
   * Alarm when the operator's maximum iterator age stays above this for 5 minutes; 1 second – 7 days.
   * @default Duration.minutes(5)
   */
  readonly maxIteratorAge?: Duration;
  /**
   * Alarm when the operator reports at least this many errors in 5 minutes, 1 or more.
   * @default 1
   */
  readonly errorsThreshold?: number;
  /**
   * Alarm when the operator is throttled at least this many times in 5 minutes, 1 or more.
   * @default 1
   */
  readonly throttlesThreshold?: number;
  /**
   * Alarm when more than this percent of incoming records are rejected in 5 minutes, 0–100.
   * @default 1
   */
  readonly rejectedRatePercent?: number;
  /**
   * Alarm when more than this percent of incoming records arrive late in 5 minutes, 0–100.
   * @default 5
   */
  readonly lateRatePercent?: number;
  /**
   * Action taken when any alarm fires (e.g. an SNS topic action).
   * @default - no action; the alarms show on the dashboard
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** Props of {@link PipelineAlarms}. */
export interface PipelineAlarmsProps extends PipelineAlarmOptions {
  /** Pipeline name: the `pipeline` dimension of its EMF metrics. */
  readonly pipeline: string;
  /** The operator function. */
  readonly operator: lambda.IFunction;
  /**
   * The tick function: an alarm on its errors (a failing tick leaves idle shards' windows open).
   * @default - no tick alarm
   */
  readonly tick?: lambda.IFunction;
  /**
   * Whether the pipeline publishes to a downstream stream (`.toStream()`): adds the publish failures alarm.
   * @default false
   */
  readonly publishes?: boolean;
  /**
   * Whether the pipeline publishes its result rows (`.sink({ toStream })`): adds the alarm on result rows
   * dead-lettered for being over the Kinesis record limit.
   * @default false
   */
  readonly publishesResults?: boolean;
}

/** Every problem with the thresholds, each naming the given value; empty when valid. */
export function validatePipelineAlarmOptions(options: PipelineAlarmOptions): string[] {
  const problems = new Problems()
    .durationRange(
      'Maximum iterator age alarm threshold',
      options.maxIteratorAge,
      Duration.seconds(1),
      Duration.days(7),
    )
    .integerRange('Errors alarm threshold', options.errorsThreshold, 1, Number.MAX_SAFE_INTEGER)
    .integerRange('Throttles alarm threshold', options.throttlesThreshold, 1, Number.MAX_SAFE_INTEGER);
  for (const [label, value] of [
    ['Rejected rate alarm threshold (%)', options.rejectedRatePercent],
    ['Late rate alarm threshold (%)', options.lateRatePercent],
  ] as const) {
    problems.check(
      value !== undefined && !(value >= 0 && value <= 100),
      `${label} must be between 0 and 100 inclusive (given ${value})`,
    );
  }
  return [...problems.all];
}

const PERIOD = METRIC_PERIOD;

/**
 * The alarms of one pipeline: iterator age (falling behind), errors and throttles (infrastructure
 * faults), and the rejected and late rates (bad input, lateness beyond the allowed bound).
 */
export class PipelineAlarms extends Construct {
  public readonly iteratorAge: cloudwatch.Alarm;
  public readonly errors: cloudwatch.Alarm;
  public readonly throttles: cloudwatch.Alarm;
  public readonly rejectedRate: cloudwatch.Alarm;
  public readonly lateRate: cloudwatch.Alarm;
  /** Batches Lambda skipped after their retries wait for `shardflow replay-failures`. */
  public readonly failedBatches: cloudwatch.Alarm;
  /**
   * Invocations of the operator or the tick whose publish to the downstream stream failed after its retries
   * (pipelines with `.toStream()` or `.sink({ toStream })`).
   */
  public readonly publishFailures?: cloudwatch.Alarm;
  /** Result rows dead-lettered to `rejected-results/<table>/` because no stream record can carry them. */
  public readonly resultsDeadLettered?: cloudwatch.Alarm;
  /** Errors of the tick function, when given. */
  public readonly tickErrors?: cloudwatch.Alarm;
  /** `100 × RejectedRecords / RecordsIn` over 5 minutes. */
  public readonly rejectedRateMetric: cloudwatch.MathExpression;
  /** `100 × LateRecords / RecordsIn` over 5 minutes. */
  public readonly lateRateMetric: cloudwatch.MathExpression;

  public constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    new Problems()
      .addAll(validatePipelineAlarmOptions(props))
      .throwIfAny(`PipelineAlarms '${this.node.path}'`);
    // Alarm names are physical: one pipeline of a name per account and region.
    claimPhysicalName(
      this,
      'shardflow pipeline',
      props.pipeline,
      (other) =>
        `PipelineAlarms '${this.node.path}': ${other} already creates the alarms of pipeline '${props.pipeline}' (shardflow-${props.pipeline}-*) in this account and region. Deploy a pipeline once per account and region`,
    );
    const name = (what: string): string => `shardflow-${props.pipeline}-${what}`;
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;

    this.iteratorAge = new cloudwatch.Alarm(this, 'IteratorAge', {
      alarmName: name('iterator-age'),
      alarmDescription: `Operator of ${props.pipeline} is falling behind its stream`,
      metric: props.operator.metric('IteratorAge', {
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      threshold: (props.maxIteratorAge ?? Duration.minutes(5)).toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      treatMissingData: notBreaching,
    });
    this.errors = new cloudwatch.Alarm(this, 'Errors', {
      alarmName: name('errors'),
      alarmDescription: `Operator of ${props.pipeline} failed invocations (infrastructure errors)`,
      metric: props.operator.metricErrors({ period: PERIOD }),
      threshold: props.errorsThreshold ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
    });
    this.throttles = new cloudwatch.Alarm(this, 'Throttles', {
      alarmName: name('throttles'),
      alarmDescription: `Operator of ${props.pipeline} is throttled`,
      metric: props.operator.metricThrottles({ period: PERIOD }),
      threshold: props.throttlesThreshold ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
    });

    if (props.tick !== undefined)
      this.tickErrors = new cloudwatch.Alarm(this, 'TickErrors', {
        alarmName: name('tick-errors'),
        alarmDescription: `Tick of ${props.pipeline} failed invocations: idle shards' windows do not close`,
        metric: props.tick.metricErrors({ period: PERIOD }),
        threshold: props.errorsThreshold ?? 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      });

    // The records the operator read in the period, not those put to the stream: while it drains a backlog
    // with the producers quiet, the stream's IncomingRecords is 0 and a rate over it could never fire.
    const incoming = pipelineMetric(props.pipeline, METRICS.RECORDS_IN, SERVICE_NAMES.OPERATOR);
    // Both handlers may publish the count (each under its own `service` dimension), so the rate adds
    // them up. Ids are distinct per rate so both expressions can share one dashboard graph.
    const rate = (metricName: string, label: string): cloudwatch.MathExpression => {
      const id = metricName.toLowerCase();
      return new cloudwatch.MathExpression({
        expression: `IF(incoming > 0, 100 * (FILL(${id}op, 0) + FILL(${id}tick, 0)) / incoming, 0)`,
        usingMetrics: {
          [`${id}op`]: pipelineMetric(props.pipeline, metricName, SERVICE_NAMES.OPERATOR),
          [`${id}tick`]: pipelineMetric(props.pipeline, metricName, SERVICE_NAMES.TICK),
          incoming,
        },
        label,
        period: PERIOD,
      });
    };
    this.rejectedRateMetric = rate(METRICS.REJECTED_RECORDS, 'Rejected %');
    this.lateRateMetric = rate(METRICS.LATE_RECORDS, 'Late %');
    this.rejectedRate = this.rejectedRateMetric.createAlarm(this, 'RejectedRate', {
      alarmName: name('rejected-rate'),
      alarmDescription: `More than ${props.rejectedRatePercent ?? 1}% of ${props.pipeline} records were rejected`,
      threshold: props.rejectedRatePercent ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
    });
    this.lateRate = this.lateRateMetric.createAlarm(this, 'LateRate', {
      alarmName: name('late-rate'),
      alarmDescription: `More than ${props.lateRatePercent ?? 5}% of ${props.pipeline} records arrived late`,
      threshold: props.lateRatePercent ?? 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
    });

    this.failedBatches = new cloudwatch.Alarm(this, 'FailedBatches', {
      alarmName: name('failed-batches'),
      alarmDescription: `Lambda skipped batches of ${props.pipeline} after their retries: replay them with shardflow replay-failures`,
      metric: pipelineMetric(props.pipeline, METRICS.FAILED_BATCHES_PENDING, SERVICE_NAMES.TICK).with({
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
    });

    // The operator's close pass and the tick's both publish result rows: the count adds both services up.
    const bothHandlers = (metricName: string, label: string): cloudwatch.MathExpression => {
      const id = metricName.toLowerCase();
      return new cloudwatch.MathExpression({
        expression: `FILL(${id}op, 0) + FILL(${id}tick, 0)`,
        usingMetrics: {
          [`${id}op`]: pipelineMetric(props.pipeline, metricName, SERVICE_NAMES.OPERATOR),
          [`${id}tick`]: pipelineMetric(props.pipeline, metricName, SERVICE_NAMES.TICK),
        },
        label,
        period: PERIOD,
      });
    };
    if (props.publishes === true)
      this.publishFailures = bothHandlers(METRICS.PUBLISH_FAILURES, 'Publish failures').createAlarm(
        this,
        'PublishFailures',
        {
          alarmName: name('publish-failures'),
          alarmDescription: `${props.pipeline} could not publish to its downstream stream after its retries (operator: its batches are redelivered; tick: its close pass runs again) until it can`,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: notBreaching,
        },
      );
    if (props.publishesResults === true)
      this.resultsDeadLettered = bothHandlers(
        METRICS.RESULTS_DEAD_LETTERED,
        'Result rows dead-lettered',
      ).createAlarm(this, 'ResultsDeadLettered', {
        alarmName: name('results-dead-lettered'),
        alarmDescription: `Result rows of ${props.pipeline} were over the Kinesis record limit: they are in the table and under ${BUCKET_PREFIX.REJECTED_RESULTS}, not in the downstream stream`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: notBreaching,
      });

    if (props.alarmAction) for (const alarm of this.all) alarm.addAlarmAction(props.alarmAction);
  }

  /** Every alarm of the pipeline. */
  public get all(): cloudwatch.Alarm[] {
    return [
      this.iteratorAge,
      this.errors,
      ...(this.tickErrors === undefined ? [] : [this.tickErrors]),
      this.throttles,
      this.rejectedRate,
      this.lateRate,
      this.failedBatches,
      ...(this.publishFailures === undefined ? [] : [this.publishFailures]),
      ...(this.resultsDeadLettered === undefined ? [] : [this.resultsDeadLettered]),
    ];
  }
}
