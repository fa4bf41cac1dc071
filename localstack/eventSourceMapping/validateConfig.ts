import { ESM_DEFAULTS, ESM_LIMITS, TABLE_STREAM_ARN } from './constants';
import { MappingValidationError } from './errors';
import { REPORT_BATCH_ITEM_FAILURES, STARTING_POSITION, type EventSourceMappingConfig } from './types';
import { compileFilterCriteria } from './filterCriteria';

/** A mapping with every optional setting filled with Lambda's default. */
export interface ResolvedMappingConfig extends Required<
  Omit<EventSourceMappingConfig, 'onFailureDestination' | 'startingPositionTimestamp'>
> {
  readonly onFailureDestination?: string;
  readonly startingPositionTimestamp?: number;
  readonly reportBatchItemFailures: boolean;
}

function checkRange(
  problems: string[],
  name: string,
  value: number,
  min: number,
  max: number,
  allowMinusOne = false,
): void {
  if (allowMinusOne && value === -1) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(
      `${name} must be ${allowMinusOne ? '-1 or ' : ''}an integer between ${min} and ${max} inclusive (given ${value})`,
    );
  }
}

/**
 * Validates a mapping against Lambda's ranges (all problems in one message) and fills defaults.
 *
 * @throws MappingValidationError naming every bad value
 */
export function resolveMappingConfig(config: EventSourceMappingConfig): ResolvedMappingConfig {
  const problems: string[] = [];
  const batchSize = config.batchSize ?? ESM_DEFAULTS.BATCH_SIZE;
  const window = config.maximumBatchingWindowInSeconds ?? ESM_DEFAULTS.MAXIMUM_BATCHING_WINDOW_IN_SECONDS;
  const parallelizationFactor = config.parallelizationFactor ?? ESM_DEFAULTS.PARALLELIZATION_FACTOR;
  const maximumRetryAttempts = config.maximumRetryAttempts ?? ESM_DEFAULTS.MAXIMUM_RETRY_ATTEMPTS;
  const maximumRecordAgeInSeconds =
    config.maximumRecordAgeInSeconds ?? ESM_DEFAULTS.MAXIMUM_RECORD_AGE_IN_SECONDS;
  const tumblingWindowInSeconds = config.tumblingWindowInSeconds ?? ESM_DEFAULTS.TUMBLING_WINDOW_IN_SECONDS;
  checkRange(problems, 'BatchSize', batchSize, ESM_LIMITS.BATCH_SIZE.min, ESM_LIMITS.BATCH_SIZE.max);
  checkRange(
    problems,
    'MaximumBatchingWindowInSeconds',
    window,
    ESM_LIMITS.MAXIMUM_BATCHING_WINDOW_IN_SECONDS.min,
    ESM_LIMITS.MAXIMUM_BATCHING_WINDOW_IN_SECONDS.max,
  );
  checkRange(
    problems,
    'ParallelizationFactor',
    parallelizationFactor,
    ESM_LIMITS.PARALLELIZATION_FACTOR.min,
    ESM_LIMITS.PARALLELIZATION_FACTOR.max,
  );
  checkRange(
    problems,
    'MaximumRetryAttempts',
    maximumRetryAttempts,
    0,
    ESM_LIMITS.MAXIMUM_RETRY_ATTEMPTS.max,
    true,
  );
  checkRange(
    problems,
    'MaximumRecordAgeInSeconds',
    maximumRecordAgeInSeconds,
    ESM_LIMITS.MAXIMUM_RECORD_AGE_IN_SECONDS.min,
    ESM_LIMITS.MAXIMUM_RECORD_AGE_IN_SECONDS.max,
    true,
  );
  checkRange(
    problems,
    'TumblingWindowInSeconds',
    tumblingWindowInSeconds,
    ESM_LIMITS.TUMBLING_WINDOW_IN_SECONDS.min,
    ESM_LIMITS.TUMBLING_WINDOW_IN_SECONDS.max,
  );
  if (!Object.values(STARTING_POSITION).includes(config.startingPosition)) {
    problems.push(
      `StartingPosition must be one of ${Object.values(STARTING_POSITION).join(', ')} (given ${String(config.startingPosition)})`,
    );
  }
  if (
    config.startingPosition === STARTING_POSITION.AT_TIMESTAMP &&
    config.startingPositionTimestamp === undefined
  ) {
    problems.push(
      'StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP (given undefined)',
    );
  }
  const responseTypes = config.functionResponseTypes ?? [];
  for (const type of responseTypes) {
    if (type !== REPORT_BATCH_ITEM_FAILURES)
      problems.push(`FunctionResponseTypes may only contain ${REPORT_BATCH_ITEM_FAILURES} (given ${type})`);
  }
  if (
    !/^arn:aws[a-z-]*:kinesis:[^:]*:[^:]*:stream\/.+/.test(config.eventSourceArn) &&
    !TABLE_STREAM_ARN.test(config.eventSourceArn)
  ) {
    problems.push(
      `EventSourceArn must be a Kinesis stream ARN or a DynamoDB table's stream ARN (given ${config.eventSourceArn})`,
    );
  }
  if (TABLE_STREAM_ARN.test(config.eventSourceArn) && config.startingPosition === 'AT_TIMESTAMP') {
    problems.push(
      'StartingPosition AT_TIMESTAMP is not supported for a DynamoDB stream (use TRIM_HORIZON or LATEST)',
    );
  }
  // A table's operator fences a shard's batches in order (and Lambda is reported to require factor 1 with a
  // tumbling window: see validateTableEventSourceOptions in lib/constructs/ShardEventSource.ts).
  if (
    (TABLE_STREAM_ARN.test(config.eventSourceArn) || tumblingWindowInSeconds > 0) &&
    parallelizationFactor !== 1
  ) {
    problems.push(
      `ParallelizationFactor must be 1 on a DynamoDB stream or with a tumbling window (given ${parallelizationFactor}): its batches are fenced per shard in order, so a shard's batches cannot run concurrently`,
    );
  }
  try {
    compileFilterCriteria(config.filterPatterns ?? []);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0) {
    throw new MappingValidationError(
      `Invalid event source mapping ${config.uuid}:\n  ${problems.join('\n  ')}`,
    );
  }
  return {
    uuid: config.uuid,
    functionName: config.functionName,
    eventSourceArn: config.eventSourceArn,
    batchSize,
    maximumBatchingWindowInSeconds: window,
    startingPosition: config.startingPosition,
    ...(config.startingPositionTimestamp === undefined
      ? {}
      : { startingPositionTimestamp: config.startingPositionTimestamp }),
    parallelizationFactor,
    bisectBatchOnFunctionError: config.bisectBatchOnFunctionError ?? false,
    maximumRetryAttempts,
    maximumRecordAgeInSeconds,
    tumblingWindowInSeconds,
    functionResponseTypes: responseTypes,
    reportBatchItemFailures: responseTypes.includes(REPORT_BATCH_ITEM_FAILURES),
    ...(config.onFailureDestination === undefined
      ? {}
      : { onFailureDestination: config.onFailureDestination }),
    filterPatterns: config.filterPatterns ?? [],
    enabled: config.enabled ?? true,
  };
}

/** Stream name from a Kinesis stream ARN. */
export function streamNameFromArn(arn: string): string {
  const index = arn.indexOf(':stream/');
  return index === -1 ? arn : arn.slice(index + ':stream/'.length);
}
