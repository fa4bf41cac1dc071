/**
 * CloudWatch names the alarms and dashboard read. The handlers publish these through Powertools
 * Metrics (EMF), which adds the `service` dimension by default: the stack sets
 * `POWERTOOLS_SERVICE_NAME` to {@link METRICS.SERVICE} so both dimensions are known here.
 */
export const METRICS = {
  NAMESPACE: 'shardflow',
  SERVICE: 'shardflow',
  REJECTED_RECORDS: 'RejectedRecords',
  LATE_RECORDS: 'LateRecords',
  /** Dimension naming the pipeline that emitted the metric. */
  PIPELINE_DIMENSION: 'pipeline',
  SERVICE_DIMENSION: 'service',
} as const;
