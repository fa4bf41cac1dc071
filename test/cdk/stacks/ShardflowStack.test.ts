import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BUCKET_PREFIX, ENV, SERVICE_NAMES, STATE_TABLE } from '../../../functions/core/constants';
import type { ShardflowStack } from '../../../lib/stacks/ShardflowStack';
import { buildStack, deployed, findWildcardGrants, pipelineSpec, sessionSpec } from '../helpers';

const ARN = (logicalId: string): unknown => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

describe('ShardflowStack', () => {
  let stack: ShardflowStack;
  let template: Template;
  let logicalId: (construct: { node: { defaultChild?: unknown } } | undefined) => string;

  beforeAll(() => {
    // GIVEN two different pipelines: tumbling on a provisioned stream with default mapping settings,
    // and session windows on an on-demand stream with every mapping setting overridden.
    stack = buildStack(
      {
        pipelines: [
          deployed(pipelineSpec()),
          {
            ...deployed(sessionSpec()),
            eventSource: {
              batchSize: 50,
              maxBatchingWindow: Duration.seconds(10),
              startingPosition: lambda.StartingPosition.AT_TIMESTAMP,
              startingPositionTimestamp: 1_700_000_000,
              parallelizationFactor: 2,
              bisectBatchOnError: false,
              retryAttempts: 3,
              maxRecordAge: Duration.hours(2),
              reportBatchItemFailures: true,
              filters: [lambda.FilterCriteria.filter({ data: { kind: lambda.FilterRule.isEqual('click') } })],
              enabled: false,
              metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT] },
            },
            operator: { memorySize: 1024, timeout: Duration.seconds(120), reservedConcurrentExecutions: 5 },
          },
        ],
      },
      'Test',
      { bundle: false },
    ); // bundling itself is proven once, in localDeployer.test.ts
    // WHEN
    template = Template.fromStack(stack);
    logicalId = (construct) => stack.getLogicalId(construct!.node.defaultChild as never);
  });

  const operatorOf = (pipeline: string): string => logicalId(stack.operatorOf(pipeline));
  const tickOf = (pipeline: string): string => logicalId(stack.pipelines.get(pipeline)!.tick.function);
  const streamOf = (pipeline: string): string => logicalId(stack.pipelines.get(pipeline)!.stream);
  const bucketId = (): string => logicalId(stack.resultsBucket.bucket);
  const tableId = (): string => logicalId(stack.stateTable.table);

  describe('ingest streams', () => {
    it('when a spec gives a shard count, it creates a provisioned, KMS-encrypted stream', () => {
      template.hasResourceProperties('AWS::Kinesis::Stream', {
        Name: 'flights',
        ShardCount: 2,
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
        RetentionPeriodHours: 24,
      });
    });

    it('when a spec gives no shard count, it creates an on-demand stream', () => {
      template.hasResourceProperties('AWS::Kinesis::Stream', {
        Name: 'clicks',
        ShardCount: Match.absent(),
        StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      });
      template.resourceCountIs('AWS::Kinesis::Stream', 2);
    });
  });

  describe('state table', () => {
    it('when synthesized, it creates one on-demand table with PITR, TTL, SSE and the open-windows GSI', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: STATE_TABLE.PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.SORT_KEY, KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: STATE_TABLE.TTL_ATTRIBUTE, Enabled: true },
        SSESpecification: { SSEEnabled: true },
        // Segments and progress items are read by key only: no index to pay for.
        GlobalSecondaryIndexes: Match.absent(),
      });
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('results bucket', () => {
    it('when synthesized, no role may list the bucket outside the prefixes it works under', () => {
      // GIVEN every IAM policy of the stack
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
            .PolicyDocument.Statement,
      );
      // WHEN looking at the statements that allow ListBucket
      const listings = statements.filter((statement) => {
        const actions = ([] as unknown[]).concat(statement.Action);
        return actions.includes('s3:ListBucket') || actions.includes('s3:*');
      });
      // THEN each is limited by an s3:prefix condition
      expect(listings.length).toBeGreaterThan(0);
      for (const statement of listings) {
        expect(statement).toMatchObject({ Condition: { StringLike: { 's3:prefix': expect.any(Array) } } });
      }
    });

    it('when synthesized, it encrypts, blocks public access, logs access and expires every side-output prefix', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: logicalId(stack.resultsBucket.accessLogBucket) },
        },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: BUCKET_PREFIX.REJECTED, ExpirationInDays: 30, Status: 'Enabled' }),
            Match.objectLike({ Prefix: BUCKET_PREFIX.LATE, ExpirationInDays: 30, Status: 'Enabled' }),
            Match.objectLike({ Prefix: BUCKET_PREFIX.CLEAN, ExpirationInDays: 90, Status: 'Enabled' }),
            Match.objectLike({
              Prefix: BUCKET_PREFIX.FAILED_BATCHES,
              ExpirationInDays: 14,
              Status: 'Enabled',
            }),
            Match.objectLike({ Prefix: 'aws/lambda/', ExpirationInDays: 14, Status: 'Enabled' }),
            Match.objectLike({ Prefix: 'athena-results/', ExpirationInDays: 7, Status: 'Enabled' }),
          ]),
        },
      });
    });

    it('when synthesized, it never expires results/', () => {
      const bucket = template.toJSON().Resources[bucketId()];
      const prefixes = bucket.Properties.LifecycleConfiguration.Rules.map(
        (r: { Prefix?: string }) => r.Prefix,
      );
      expect(prefixes).not.toContain(BUCKET_PREFIX.RESULTS);
      expect(prefixes.every((p: string | undefined) => p !== undefined && p !== '')).toBe(true);
    });

    it('when synthesized, it denies every request that is not TLS', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: bucketId() },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });
  });

  describe('operator functions', () => {
    it('when synthesized, it bundles Node.js 22 arm64 functions with the pipeline env and Powertools settings', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 60,
        Environment: {
          Variables: {
            [ENV.PIPELINE]: 'flight-delays',
            [ENV.STATE_TABLE]: { Ref: tableId() },
            [ENV.RESULTS_BUCKET]: { Ref: bucketId() },
            [ENV.STREAM_NAME]: { Ref: streamOf('flight-delays') },
            POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.OPERATOR,
            POWERTOOLS_METRICS_NAMESPACE: 'shardflow',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      });
    });

    it('when a pipeline overrides sizing, its operator gets that memory, timeout and reserved concurrency', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'shardflow operator of pipeline user-sessions',
        MemorySize: 1024,
        Timeout: 120,
        ReservedConcurrentExecutions: 5,
        Environment: { Variables: Match.objectLike({ [ENV.PIPELINE]: 'user-sessions' }) },
      });
    });

    it('when synthesized, the tick function names its own Powertools service', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'shardflow tick of pipeline flight-delays',
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.TICK,
            [ENV.PIPELINE]: 'flight-delays',
          }),
        },
      });
    });

    it('when synthesized, each function logs to its own log group with a retention', () => {
      // Operator, tick and upgrade check of each of the two pipelines.
      template.resourceCountIs('AWS::Lambda::Function', 6);
      template.resourceCountIs('AWS::Logs::LogGroup', 6);
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });
  });

  describe('event source mappings', () => {
    it('when a pipeline sets nothing, its mapping uses the safe defaults and the S3 on-failure destination', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: operatorOf('flight-delays') },
        EventSourceArn: ARN(streamOf('flight-delays')),
        BatchSize: 2000,
        MaximumBatchingWindowInSeconds: 1,
        StartingPosition: 'TRIM_HORIZON',
        StartingPositionTimestamp: Match.absent(),
        ParallelizationFactor: 1,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: 86400,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: ARN(bucketId()) } },
        FilterCriteria: Match.absent(),
        Enabled: true,
        MetricsConfig: Match.absent(),
      });
    });

    it('when a pipeline overrides every setting, its mapping follows each one', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: operatorOf('user-sessions') },
        EventSourceArn: ARN(streamOf('user-sessions')),
        BatchSize: 50,
        MaximumBatchingWindowInSeconds: 10,
        StartingPosition: 'AT_TIMESTAMP',
        StartingPositionTimestamp: 1_700_000_000,
        ParallelizationFactor: 2,
        BisectBatchOnFunctionError: false,
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 7200,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: ARN(bucketId()) } },
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ data: { kind: ['click'] } }) }] },
        Enabled: false,
        MetricsConfig: { Metrics: ['EventCount'] },
      });
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    });

    it('when a parallelization factor above 1 is chosen, it warns that the sequence fence needs key-aligned partitions', () => {
      const warnings = Annotations.fromStack(stack).findWarning(
        '*',
        Match.stringLikeRegexp('Parallelization factor 2'),
      );
      expect(warnings.map((w) => w.id)).toEqual(['/Test/UserSessions/Operator']);
      Annotations.fromStack(stack).hasNoWarning('/Test/FlightDelays/Operator', Match.anyValue());
    });
  });

  describe('tick schedules', () => {
    it('when synthesized, an EventBridge rule invokes each tick function every minute', () => {
      template.resourceCountIs('AWS::Events::Rule', 2);
      const tick = logicalId(stack.pipelines.get('flight-delays')!.tick.function);
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: ARN(tick),
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
          }),
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: ARN(tick),
        Principal: 'events.amazonaws.com',
      });
    });
  });

  describe('Glue catalog', () => {
    it('when synthesized, it creates the shardflow database', () => {
      template.hasResourceProperties('AWS::Glue::Database', {
        CatalogId: '123456789012',
        DatabaseInput: { Name: 'shardflow' },
      });
    });

    it('when a tumbling pipeline is deployed, its Glue table has its columns, Parquet SerDe and dt/hour projection', () => {
      template.hasResourceProperties('AWS::Glue::Table', {
        DatabaseName: 'shardflow',
        TableInput: {
          Name: 'delays_by_origin_hourly',
          TableType: 'EXTERNAL_TABLE',
          PartitionKeys: [
            { Name: 'dt', Type: 'string' },
            { Name: 'hour', Type: 'string' },
          ],
          Parameters: Match.objectLike({
            classification: 'parquet',
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': '2000-01-01,NOW+1DAYS',
            'projection.hour.type': 'integer',
            'projection.hour.range': '0,23',
            'projection.hour.digits': '2',
            'storage.location.template': {
              'Fn::Join': [
                '',
                ['s3://', { Ref: bucketId() }, '/results/delays_by_origin_hourly/dt=${dt}/hour=${hour}/'],
              ],
            },
          }),
          StorageDescriptor: {
            Columns: [
              { Name: 'origin', Type: 'string', Comment: 'Airport of departure' },
              { Name: 'window_start', Type: 'timestamp' },
              { Name: 'window_end', Type: 'timestamp' },
              { Name: 'flights', Type: 'bigint' },
              { Name: 'avg_delay', Type: 'double' },
              { Name: 'p95_delay', Type: 'double' },
            ],
            Location: {
              'Fn::Join': ['', ['s3://', { Ref: bucketId() }, '/results/delays_by_origin_hourly/']],
            },
            InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            SerdeInfo: Match.objectLike({
              SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            }),
          },
        },
      });
    });

    it('when a session pipeline with other columns is deployed, its Glue schema follows its spec', () => {
      template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: 'sessions',
          StorageDescriptor: Match.objectLike({
            Columns: [
              { Name: 'user_id', Type: 'string' },
              { Name: 'window_start', Type: 'timestamp' },
              { Name: 'window_end', Type: 'timestamp' },
              { Name: 'clicks', Type: 'bigint' },
              { Name: 'converted', Type: 'boolean' },
              { Name: 'pages', Type: 'string', Comment: 'Top pages' },
            ],
            Location: { 'Fn::Join': ['', ['s3://', { Ref: bucketId() }, '/results/sessions/']] },
          }),
        }),
      });
      template.resourceCountIs('AWS::Glue::Table', 2);
    });
  });

  describe('Athena', () => {
    it('when synthesized, it creates an engine v3 workgroup that enforces SSE-S3 results under athena-results/', () => {
      template.hasResourceProperties('AWS::Athena::WorkGroup', {
        Name: 'shardflow',
        RecursiveDeleteOption: true,
        WorkGroupConfiguration: {
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
          EnforceWorkGroupConfiguration: true,
          PublishCloudWatchMetricsEnabled: true,
          BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
          ResultConfiguration: {
            OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: bucketId() }, '/athena-results/']] },
            EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          },
        },
      });
    });

    it('when synthesized, it adds two sample named queries per result table in the workgroup', () => {
      template.resourceCountIs('AWS::Athena::NamedQuery', 4);
      template.hasResourceProperties('AWS::Athena::NamedQuery', {
        Database: 'shardflow',
        WorkGroup: 'shardflow',
        Name: 'sessions: latest windows',
        QueryString: Match.stringLikeRegexp('FROM "shardflow"."sessions"'),
      });
    });
  });

  describe('alarms and dashboard', () => {
    it('when synthesized, each pipeline has iterator age, operator and tick errors, throttles, rejected, late and failed-batches alarms', () => {
      template.resourceCountIs('AWS::CloudWatch::Alarm', 14);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'shardflow-flight-delays-iterator-age',
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Statistic: 'Maximum',
        Threshold: 300_000,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: operatorOf('flight-delays') } }],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'shardflow-flight-delays-errors',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Threshold: 1,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'shardflow-flight-delays-tick-errors',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Threshold: 1,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: tickOf('flight-delays') } }],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'shardflow-flight-delays-throttles',
        MetricName: 'Throttles',
      });
    });

    it("when synthesized, the tick counts the operator mapping's on-failure records, may list only under them, and an alarm fires at one pending batch", () => {
      // GIVEN the tick of flight-delays and its operator's event source mapping
      const tickRole = stack.pipelines.get('flight-delays')!.tick.function.role!;
      const mapping = Object.keys(template.findResources('AWS::Lambda::EventSourceMapping')).find((id) =>
        id.startsWith('FlightDelaysOperator'),
      )!;
      const prefix = { 'Fn::Join': ['', ['aws/lambda/', { Ref: mapping }, '/']] };
      // THEN its environment names the mapping's failure prefix
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.FAILURE_PREFIX]: prefix }) },
      });
      // AND the stack outputs it for `shardflow replay-failures`
      template.hasOutput('FailurePrefixFlightDelays', { Value: prefix });
      // AND its listing grant is limited to that prefix
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(tickRole as never) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 's3:ListBucket',
              Condition: {
                StringLike: { 's3:prefix': [{ 'Fn::Join': ['', ['aws/lambda/', { Ref: mapping }, '/*']] }] },
              },
            }),
          ]),
        },
      });
      // AND the alarm reads the tick's gauge
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'shardflow-flight-delays-failed-batches',
        Namespace: 'shardflow',
        MetricName: 'FailedBatchesPending',
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: Match.arrayWith([
          { Name: 'pipeline', Value: 'flight-delays' },
          { Name: 'service', Value: SERVICE_NAMES.TICK },
        ]),
      });
    });

    it('when synthesized, the rejected and late alarms divide the pipeline EMF counts by the records the operator read', () => {
      for (const [what, metricName, threshold] of [
        ['rejected-rate', 'RejectedRecords', 1],
        ['late-rate', 'LateRecords', 5],
      ] as const) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `shardflow-user-sessions-${what}`,
          Threshold: threshold,
          ComparisonOperator: 'GreaterThanThreshold',
          Metrics: Match.arrayWith([
            Match.objectLike({ Expression: Match.stringLikeRegexp('/ incoming') }),
            ...[SERVICE_NAMES.OPERATOR, SERVICE_NAMES.TICK].map((service) =>
              Match.objectLike({
                MetricStat: Match.objectLike({
                  Metric: {
                    Namespace: 'shardflow',
                    MetricName: metricName,
                    Dimensions: [
                      { Name: 'pipeline', Value: 'user-sessions' },
                      { Name: 'service', Value: service },
                    ],
                  },
                  Stat: 'Sum',
                }),
              }),
            ),
            Match.objectLike({
              Id: 'incoming',
              MetricStat: Match.objectLike({
                Metric: {
                  Namespace: 'shardflow',
                  MetricName: 'RecordsIn',
                  Dimensions: [
                    { Name: 'pipeline', Value: 'user-sessions' },
                    { Name: 'service', Value: SERVICE_NAMES.OPERATOR },
                  ],
                },
              }),
            }),
          ]),
        });
      }
    });

    it('when synthesized, it creates one dashboard', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });
  });

  describe('outputs', () => {
    it('when synthesized, it outputs the bucket, table, workgroup, database and each stream name', () => {
      template.hasOutput('ResultsBucketName', { Value: { Ref: bucketId() } });
      template.hasOutput('StateTableName', { Value: { Ref: tableId() } });
      template.hasOutput('AthenaWorkgroupName', { Value: 'shardflow' });
      template.hasOutput('GlueDatabaseName', { Value: 'shardflow' });
      template.hasOutput('StreamNameFlightDelays', { Value: { Ref: streamOf('flight-delays') } });
      template.hasOutput('StreamNameUserSessions', { Value: { Ref: streamOf('user-sessions') } });
    });
  });

  describe('least privilege', () => {
    it('when synthesized, no IAM statement grants a wildcard action or resource on Kinesis, DynamoDB or S3', () => {
      expect(findWildcardGrants(template)).toEqual([]);
    });

    it('when synthesized, the operator may touch only its stream, the state table, and its own prefixes', () => {
      const role = stack.operatorOf('flight-delays')!.role!;
      const bucketArn = ARN(bucketId());
      const objects = (prefix: string): unknown => ({ 'Fn::Join': ['', [bucketArn, prefix]] });
      // Under the pipeline's source name, where its handlers write them (not the stream's deployed name).
      const clean = objects('/clean/flights/*');
      const rejected = objects('/rejected/flights/*');
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(role as never) }],
        PolicyDocument: {
          Statement: [
            // Its own log group only (no AWSLambdaBasicExecutionRole).
            {
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Effect: 'Allow',
              Resource: Match.objectLike({
                'Fn::GetAtt': [Match.stringLikeRegexp('^FlightDelaysOperatorLogs'), 'Arn'],
              }),
            },
            {
              Action: [
                'dynamodb:GetItem',
                'dynamodb:Query',
                'dynamodb:PutItem',
                'dynamodb:UpdateItem',
                'dynamodb:DeleteItem',
                'dynamodb:ConditionCheckItem',
              ],
              Condition: {
                'ForAllValues:StringLike': {
                  'dynamodb:LeadingKeys': ['P#flight-delays', 'C#flight-delays#*'],
                },
              },
              Effect: 'Allow',
              Resource: ARN(tableId()),
            },
            {
              Action: 's3:PutObject',
              Effect: 'Allow',
              Resource: objects('/results/delays_by_origin_hourly/*'),
            },
            {
              Action: ['s3:PutObject', 's3:DeleteObject'],
              Effect: 'Allow',
              Resource: [clean, rejected, objects('/late/delays_by_origin_hourly/*')],
            },
            {
              Action: 's3:ListBucket',
              Effect: 'Allow',
              Resource: bucketArn,
              Condition: {
                StringLike: {
                  's3:prefix': ['clean/flights/*', 'rejected/flights/*', 'late/delays_by_origin_hourly/*'],
                },
              },
            },
            // The on-failure destination: Lambda's own prefix, and the ListBucket Lambda requires, under it only.
            { Action: 's3:PutObject', Effect: 'Allow', Resource: objects('/aws/lambda/*') },
            {
              Action: 's3:ListBucket',
              Effect: 'Allow',
              Resource: bucketArn,
              Condition: { StringLike: { 's3:prefix': ['aws/lambda/*'] } },
            },
            {
              Action: [
                'kinesis:DescribeStreamSummary',
                'kinesis:GetRecords',
                'kinesis:GetShardIterator',
                'kinesis:ListShards',
                'kinesis:SubscribeToShard',
                'kinesis:DescribeStream',
                'kinesis:ListStreams',
                'kinesis:DescribeStreamConsumer',
              ],
              Effect: 'Allow',
              Resource: ARN(streamOf('flight-delays')),
            },
          ],
        },
      });
    });

    it('when synthesized, the tick may write only its own result table', () => {
      const role = stack.pipelines.get('user-sessions')!.tick.function.role!;
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(role as never) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: 's3:PutObject',
              Effect: 'Allow',
              Resource: { 'Fn::Join': ['', [ARN(bucketId()), '/results/sessions/*']] },
            },
            {
              Action: ['kinesis:ListShards', 'kinesis:DescribeStreamSummary'],
              Effect: 'Allow',
              Resource: ARN(streamOf('user-sessions')),
            },
          ]),
        },
      });
    });
    it('when synthesized, the tick may list and delete (not put) under its own side-output prefixes, which its sweep of idle shards removes', () => {
      const role = stack.pipelines.get('flight-delays')!.tick.function.role!;
      const bucketArn = ARN(bucketId());
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(role as never) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: 's3:DeleteObject',
              Effect: 'Allow',
              Resource: [
                { 'Fn::Join': ['', [bucketArn, '/clean/flights/*']] },
                { 'Fn::Join': ['', [bucketArn, '/rejected/flights/*']] },
                { 'Fn::Join': ['', [bucketArn, '/late/delays_by_origin_hourly/*']] },
              ],
            },
            {
              Action: 's3:ListBucket',
              Effect: 'Allow',
              Resource: bucketArn,
              Condition: {
                StringLike: {
                  's3:prefix': ['clean/flights/*', 'rejected/flights/*', 'late/delays_by_origin_hourly/*'],
                },
              },
            },
          ]),
        },
      });
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p).includes(logicalId(role as never)),
      );
      expect(JSON.stringify(policies)).not.toMatch(/"s3:PutObject","s3:DeleteObject"/);
    });
  });

  describe('cdk-nag', () => {
    it('when AwsSolutions checks run, it reports no unacknowledged finding', () => {
      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((v) => v.ruleName)).toEqual([]);
      expect(report.success).toBe(true);
    });

    it('when the checks run, every acknowledgement in the stack carries a written reason', () => {
      const acknowledgements = stack.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
        .flatMap((m) => Object.entries(m.data as Record<string, string>));
      const ids = acknowledgements.map(([id]) => id);
      expect(ids).toEqual(expect.arrayContaining([expect.stringMatching(/AwsSolutions-L1/)]));
      // No managed policy to acknowledge: each function's role writes only to its own log group.
      expect(ids.filter((id) => id.includes('AwsSolutions-IAM4'))).toEqual([]);
      for (const [id, reason] of acknowledgements)
        expect({ id, reason: reason.length > 40 }).toEqual({ id, reason: true });
    });
  });

  it('when synthesized, it is a single stack', () => {
    expect(Stack.of(stack.resultsBucket)).toBe(stack);
  });
});
