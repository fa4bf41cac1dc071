import { App, Duration, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ValidationError } from '../../../lib/errors';
import { ShardflowStack, type ShardflowStackProps } from '../../../lib/stacks/ShardflowStack';
import { deployed, FIXTURE_ENTRIES, pipelineSpec, sessionSpec } from '../helpers';

function synthError(props: Partial<ShardflowStackProps>): ValidationError {
  try {
    new ShardflowStack(new App(), 'Bad', {
      pipelines: [deployed(pipelineSpec())],
      ...FIXTURE_ENTRIES,
      ...props,
    });
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('ShardflowStack props validation', () => {
  it('when no pipeline is given, it says at least one is required', () => {
    // GIVEN / WHEN
    const error = synthError({ pipelines: [] });
    // THEN
    expect(error.message).toBe(
      "Invalid ShardflowStack 'Bad' props:\n- At least one pipeline is required (given 0)",
    );
    expect(error.name).toBe('ValidationError');
  });

  it('when pipelines repeat a name, stream or table, it lists each duplicate in one message', () => {
    const error = synthError({ pipelines: [deployed(pipelineSpec()), deployed(pipelineSpec())] });
    expect(error.problems).toEqual([
      "Pipeline names must be unique (given 'flight-delays' more than once)",
      "Pipeline streams must be unique (given 'flights' more than once)",
      "Sink tables must be unique (given 'delays_by_origin_hourly' more than once)",
      "Pipeline names must differ in more than punctuation (given several that map to output id 'StreamNameFlightDelays')",
    ]);
  });

  it('when mapping numbers are out of range, it names every bad value with its range, like aws-cdk-lib', () => {
    const error = synthError({
      eventSource: {
        batchSize: 0,
        maxBatchingWindow: Duration.seconds(301),
        parallelizationFactor: 11,
        retryAttempts: -1,
        maxRecordAge: Duration.days(8),
      },
    });
    expect(error.message).toBe(
      [
        "Invalid ShardflowStack 'Bad' props:",
        "- Pipeline 'flight-delays': Maximum batch size must be between 1 and 10000 inclusive (given 0)",
        "- Pipeline 'flight-delays': Maximum batching window must be between 0 seconds and 5 minutes inclusive (given 5 minutes 1 second)",
        "- Pipeline 'flight-delays': Parallelization factor must be between 1 and 10 inclusive (given 11)",
        "- Pipeline 'flight-delays': Retry attempts must be between 0 and 10000 inclusive (given -1)",
        "- Pipeline 'flight-delays': Maximum record age must be between 1 minute and 7 days inclusive (given 8 days)",
      ].join('\n'),
    );
  });

  it('when the starting position and its timestamp disagree, it says which is missing or extra', () => {
    expect(
      synthError({ eventSource: { startingPosition: lambda.StartingPosition.AT_TIMESTAMP } }).problems,
    ).toEqual([
      "Pipeline 'flight-delays': startingPositionTimestamp is required when startingPosition is AT_TIMESTAMP",
    ]);
    expect(
      synthError({
        eventSource: {
          startingPosition: lambda.StartingPosition.LATEST,
          startingPositionTimestamp: 1_700_000_000,
        },
      }).problems,
    ).toEqual([
      "Pipeline 'flight-delays': startingPositionTimestamp is only allowed when startingPosition is AT_TIMESTAMP (given 1700000000)",
    ]);
  });

  it('when a per-pipeline override is bad, only that pipeline is named', () => {
    const error = synthError({
      pipelines: [
        deployed(pipelineSpec()),
        { ...deployed(sessionSpec()), eventSource: { batchSize: 20_000 } },
      ],
    });
    expect(error.problems).toEqual([
      "Pipeline 'user-sessions': Maximum batch size must be between 1 and 10000 inclusive (given 20000)",
    ]);
  });

  it('when a spec has bad names, shard count or columns, it reports all of them at once', () => {
    const error = synthError({
      pipelines: [
        deployed(
          pipelineSpec({
            name: 'bad name',
            source: { stream: 'has space', shards: 0 },
            sink: { table: 'Upper-Case' },
            columns: [
              { name: 'dt', type: 'string' },
              { name: 'Mixed', type: 'bigint' },
              { name: 'x', type: 'double' },
              { name: 'x', type: 'double' },
            ],
          }),
        ),
      ],
    });
    expect(error.problems).toEqual([
      "Pipeline 'bad name': Pipeline name must be 1-64 characters from [a-zA-Z0-9_-] (given 'bad name')",
      "Pipeline 'bad name': Stream name must be 1-128 characters from [a-zA-Z0-9_.-], starting with a letter or digit (given 'has space')",
      "Pipeline 'bad name': Shard count must be between 1 and 10000 inclusive (given 0)",
      "Pipeline 'bad name': Sink table name must be 1-255 characters from [a-z0-9_], starting with a letter or digit (given 'Upper-Case')",
      "Pipeline 'bad name': Column name must not be a partition column (dt, hour) (given 'dt')",
      "Pipeline 'bad name': Column name must be 1-255 characters from [a-z0-9_] (given 'Mixed')",
      "Pipeline 'bad name': Column names must be unique (given 'x' more than once)",
    ]);
  });

  it('when names only pass the character sets, it still rejects a leading symbol and a name with no letter or digit', () => {
    const error = synthError({
      pipelines: [
        deployed(pipelineSpec({ name: '__', source: { stream: '.hidden' }, sink: { table: '_t' } })),
      ],
    });
    expect(error.problems).toEqual([
      "Pipeline '__': Stream name must be 1-128 characters from [a-zA-Z0-9_.-], starting with a letter or digit (given '.hidden')",
      "Pipeline '__': Pipeline name must contain a letter or digit (given '__')",
      "Pipeline '__': Sink table name must be 1-255 characters from [a-z0-9_], starting with a letter or digit (given '_t')",
    ]);
  });

  it('when a pipeline reads a table (fromTable) and its table is not given, it asks for its sourceTable export or the table instead of creating a stream named after it', () => {
    const spec = pipelineSpec({ source: { stream: 'orders', table: { view: 'NEW_AND_OLD_IMAGES' } } });
    expect(synthError({ pipelines: [deployed(spec)] }).problems).toEqual([
      "Pipeline 'flight-delays' reads table 'orders' (fromTable) but is given no table: export const sourceTable = { partitionKey: { name, type } } from its module (the stack creates the table), or give table (a dynamodb.ITable with a NEW_AND_OLD_IMAGES stream)",
    ]);
  });

  it('when a spec has no columns, it says at least one is required', () => {
    expect(synthError({ pipelines: [deployed(pipelineSpec({ columns: [] }))] }).problems).toEqual([
      "Pipeline 'flight-delays': At least one result column is required (given 0)",
    ]);
  });

  it('when sizing, retention, lifecycle, tick and alarm props are bad, it names each value', () => {
    const error = synthError({
      operator: { memorySize: 64, timeout: Duration.minutes(16), reservedConcurrentExecutions: -1 },
      tick: { interval: Duration.seconds(90) },
      streamRetention: Duration.hours(12),
      resultsBucket: { rejectedExpirationDays: 0 },
      alarms: { rejectedRatePercent: 101, errorsThreshold: 0 },
      glueDatabaseName: 'Bad-DB',
      athenaWorkgroupName: 'bad name',
    });
    expect(error.problems).toEqual([
      'Rejected record expiration (days) must be between 1 and 3650 inclusive (given 0)',
      "Glue database name must be 1-255 characters from [a-z0-9_] (given 'Bad-DB')",
      "Athena workgroup name must be 1-128 characters from [a-zA-Z0-9._-] (given 'bad name')",
      "Pipeline 'flight-delays': Retention period must be between 1 day and 365 days inclusive (given 12 hours)",
      "Pipeline 'flight-delays': Operator function memory size (MB) must be between 128 and 10240 inclusive (given 64)",
      "Pipeline 'flight-delays': Operator function timeout must be between 1 second and 15 minutes inclusive (given 16 minutes)",
      "Pipeline 'flight-delays': Operator function reserved concurrent executions must be between 0 and 1000 inclusive (given -1)",
      "Pipeline 'flight-delays': Errors alarm threshold must be between 1 and 9007199254740991 inclusive (given 0)",
      "Pipeline 'flight-delays': Rejected rate alarm threshold (%) must be between 0 and 100 inclusive (given 101)",
      "Pipeline 'flight-delays': Tick interval must be a whole number of minutes (given 1 minute 30 seconds)",
    ]);
  });

  it('when a number is a deploy-time token, it is not validated at synth time', () => {
    // GIVEN a batch size only known at deploy time: validation must skip it, not reject it.
    const app = new App();
    const props: ShardflowStackProps = {
      pipelines: [deployed(pipelineSpec())],
      ...FIXTURE_ENTRIES,
      eventSource: { batchSize: Token.asNumber({ Ref: 'BatchSizeParameter' }), parallelizationFactor: 0 },
    };
    // WHEN / THEN only the literal bad value is reported
    expect(() => new ShardflowStack(app, 'Tokens', props)).toThrow(
      "Invalid ShardflowStack 'Tokens' props:\n- Pipeline 'flight-delays': Parallelization factor must be between 1 and 10 inclusive (given 0)",
    );
  });
});
