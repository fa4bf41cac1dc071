import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Duration } from 'aws-cdk-lib';
import { METRICS, SERVICE_NAMES } from '../functions/core/constants';

/** Period of the EMF count metrics the alarms and dashboard read. */
export const METRIC_PERIOD = Duration.minutes(5);

/**
 * One EMF count of a pipeline as one handler publishes it: Powertools Metrics adds the `service`
 * dimension to the handler's `pipeline` dimension, and CloudWatch identifies a metric by its full
 * dimension set.
 */
export function pipelineMetric(
  pipeline: string,
  metricName: string,
  service: string = SERVICE_NAMES.OPERATOR,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS.NAMESPACE,
    metricName,
    dimensionsMap: { [METRICS.SERVICE_DIMENSION]: service, [METRICS.PIPELINE_DIMENSION]: pipeline },
    statistic: cloudwatch.Stats.SUM,
    period: METRIC_PERIOD,
  });
}
