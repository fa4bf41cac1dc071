import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../../functions/core/constants';
import type { PipelineSpec } from '../../../functions/core/types';
import { PIPELINE_OUTPUTS } from '../../../lib/outputNames';
import { ShardflowPipeline, type ShardflowPipelineProps } from '../../../lib/constructs/ShardflowPipeline';
import { ShardflowStack } from '../../../lib/stacks/ShardflowStack';
import { deployed, FIXTURE_ENTRIES, findWildcardGrants, fixtureShape, pipelineSpec } from '../helpers';

/** A pipeline reading the stream of table `orders` (NEW_AND_OLD_IMAGES). */
const TABLE_SPEC: PipelineSpec = pipelineSpec({
  name: 'order-revenue',
  source: { stream: 'orders', table: { view: 'NEW_AND_OLD_IMAGES' } },
  sink: { table: 'order_revenue_minutely' },
});

/** An unbundled stack (the assertions read the template only). */
const newStack = (): Stack =>
  new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'User', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });

/**
 * The user's table: named `orders` unless told (null: named by CloudFormation), with a stream of `view`,
 * point-in-time recovery on.
 */
function ordersTable(
  stack: Stack,
  options: { readonly name?: string | null; readonly view?: dynamodb.StreamViewType | null } = {},
): dynamodb.Table {
  const view = options.view === undefined ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES : options.view;
  return new dynamodb.Table(stack, 'Orders', {
    ...(options.name !== null ? { tableName: options.name ?? 'orders' } : {}),
    partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...(view !== null ? { stream: view } : {}),
  });
}

function build(
  stack: Stack,
  props: Partial<ShardflowPipelineProps> = {},
  spec: PipelineSpec = TABLE_SPEC,
): ShardflowPipeline {
  return new ShardflowPipeline(stack, 'Revenue', {
    handlers: { spec, stateShape: fixtureShape(spec), ...FIXTURE_ENTRIES, projectRoot: process.cwd() },
    analytics: false,
    ...props,
  });
}

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** The logical id of the function described `description`. */
function functionId(template: Template, description: string): string {
  const found = Object.keys(
    template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** Every statement of the policies attached to the role of the function described `description`. */
function statementsOf(template: Template, description: string): Statement[] {
  const fn = template.findResources('AWS::Lambda::Function')[functionId(template, description)] as Resource;
  const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
  ).flatMap((p) => ((p as Resource).Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
/** The statements granting any action of `service` (e.g. `dynamodb`), as action list and resource. */
const grantsOf = (statements: Statement[], service: string) =>
  statements
    .filter((s) => actionsOf(s).some((a) => a.startsWith(`${service}:`)))
    .map((s) => ({
      actions: actionsOf(s)
        .filter((a) => a.startsWith(`${service}:`))
        .sort(),
      resource: s.Resource,
    }));

describe('ShardflowPipeline with a table source (fromTable)', () => {
  it("when given the table, the operator's mapping reads the table's stream with the Kinesis mapping's settings, and no Kinesis stream is created", () => {
    const stack = newStack();
    const table = ordersTable(stack);
    const built = build(stack, { table });
    const template = Template.fromStack(stack);
    const streamArn = stack.resolve(table.tableStreamArn);
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    expect(built.stream).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: streamArn,
      FunctionName: { Ref: functionId(template, 'shardflow operator of pipeline order-revenue') },
      BatchSize: 2000,
      MaximumBatchingWindowInSeconds: 1,
      StartingPosition: 'TRIM_HORIZON',
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86400,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      Enabled: true,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      // So that every event names its shard (`shardId`): the records of a table's stream do not.
      TumblingWindowInSeconds: 900,
    });
    // Both handlers read the table's stream ARN where a Kinesis source has its name.
    for (const what of ['operator', 'tick'])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `shardflow ${what} of pipeline order-revenue`,
        Environment: { Variables: Match.objectLike({ [ENV.STREAM_NAME]: streamArn }) },
      });
    expect(template.toJSON().Outputs[PIPELINE_OUTPUTS.stream('order-revenue')].Value).toEqual(streamArn);
    // A table's stream publishes no incoming-record count: the rates divide by the records the operator read.
    const [rejected] = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: 'shardflow-order-revenue-rejected-rate' },
      }),
    ) as Resource[];
    const metrics = rejected!.Properties.Metrics as { Id: string; MetricStat?: { Metric: unknown } }[];
    expect(metrics.find((m) => m.Id === 'incoming')?.MetricStat?.Metric).toEqual({
      Namespace: 'shardflow',
      MetricName: 'RecordsIn',
      Dimensions: expect.arrayContaining([{ Name: 'pipeline', Value: 'order-revenue' }]),
    });
  });

  it("when the stack's settings are given, the table mapping carries them too", () => {
    const stack = newStack();
    build(stack, {
      table: ordersTable(stack),
      eventSource: {
        batchSize: 50,
        retryAttempts: 3,
        maxRecordAge: Duration.hours(2),
        bisectBatchOnError: false,
        startingPosition: lambda.StartingPosition.LATEST,
      },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 7200,
      BisectBatchOnFunctionError: false,
      StartingPosition: 'LATEST',
      TumblingWindowInSeconds: 900,
    });
  });

  it("when synthesized, the operator reads only the table's stream (ListStreams, which has no resource, aside), the tick only describes it, and cdk-nag is clean", () => {
    const stack = newStack();
    const table = ordersTable(stack);
    build(stack, { table });
    const template = Template.fromStack(stack);
    const streamArn = stack.resolve(table.tableStreamArn);
    const ordersId = stack.getLogicalId(table.node.defaultChild as CfnElement);
    const onTable = (grants: ReturnType<typeof grantsOf>) =>
      grants.filter((g) => JSON.stringify(g.resource).includes(ordersId));
    const operator = grantsOf(
      statementsOf(template, 'shardflow operator of pipeline order-revenue'),
      'dynamodb',
    );
    // Of the user's table, only its stream: the stream reads the mapping needs (DescribeStream is also the
    // operator's shard lookup), and ListStreams, which has no resource to scope it to.
    expect(onTable(operator)).toEqual([
      {
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resource: streamArn,
      },
    ]);
    expect(operator).toContainEqual({ actions: ['dynamodb:ListStreams'], resource: '*' });
    // Its side outputs are filed under the table's name as the pipeline gives it.
    const s3 = JSON.stringify(
      grantsOf(statementsOf(template, 'shardflow operator of pipeline order-revenue'), 's3'),
    );
    for (const prefix of ['/clean/orders/*', '/rejected/orders/*', '/late/order_revenue_minutely/*'])
      expect(s3).toContain(prefix);
    const tick = grantsOf(statementsOf(template, 'shardflow tick of pipeline order-revenue'), 'dynamodb');
    expect(onTable(tick)).toEqual([{ actions: ['dynamodb:DescribeStream'], resource: streamArn }]);
    expect(JSON.stringify(tick)).not.toContain('ListStreams');
    const operatorAndTick = JSON.stringify([...operator, ...tick]);
    expect(operatorAndTick).not.toContain('kinesis:');
    expect(findWildcardGrants(template)).toEqual([
      expect.objectContaining({ actions: ['dynamodb:ListStreams'], resources: ['*'] }),
    ]);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.join(' ')}`)).toEqual([]);
  });

  it("when the table's name is not known at synth, the tick sweeps the side-output prefixes the operator writes", () => {
    const stack = newStack();
    build(stack, { table: ordersTable(stack, { name: null }) });
    const template = Template.fromStack(stack);
    const prefixes = (description: string): string[] =>
      statementsOf(template, description)
        .filter((s) => actionsOf(s).includes('s3:DeleteObject'))
        .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
        .map((r) => JSON.stringify(r))
        .sort();
    expect(prefixes('shardflow tick of pipeline order-revenue')).toEqual(
      prefixes('shardflow operator of pipeline order-revenue'),
    );
    expect(prefixes('shardflow tick of pipeline order-revenue').join()).toContain('/clean/orders/*');
  });

  it('when the table is missing, has no stream, another name or another view, or a stream is given instead, it names the problem in one line', () => {
    const problems = (
      props: (stack: Stack) => Partial<ShardflowPipelineProps>,
      spec: PipelineSpec = TABLE_SPEC,
    ): string[] => {
      const stack = newStack();
      try {
        build(stack, props(stack), spec);
      } catch (error) {
        return (error as { problems?: string[] }).problems ?? [(error as Error).message];
      }
      return [];
    };
    expect(problems(() => ({}))).toEqual([
      "Pipeline 'order-revenue': Pipeline reads table 'orders' (fromTable): give that table (table: dynamodb.ITable, with a NEW_AND_OLD_IMAGES stream)",
    ]);
    expect(problems((s) => ({ table: ordersTable(s, { view: null }) }))).toEqual([
      'The given table has no stream: enable one (stream: StreamViewType.NEW_AND_OLD_IMAGES), or import it with its tableStreamArn',
    ]);
    expect(problems((s) => ({ table: ordersTable(s, { name: 'invoices' }) }))).toEqual([
      "The given table must be the table the pipeline reads 'orders' (given 'invoices')",
    ]);
    expect(problems((s) => ({ table: ordersTable(s, { view: dynamodb.StreamViewType.KEYS_ONLY }) }))).toEqual(
      [
        "The given table's stream must carry the view the pipeline reads, NEW_AND_OLD_IMAGES (given KEYS_ONLY)",
      ],
    );
    expect(
      problems((s) => ({
        table: ordersTable(s),
        stream: new kinesis.Stream(s, 'Orders2', {
          streamName: 'orders',
          encryption: kinesis.StreamEncryption.MANAGED,
        }),
      })),
    ).toEqual(["Pipeline reads table 'orders' (fromTable): give its table, not a stream"]);
    expect(
      problems((s) => ({
        table: ordersTable(s),
        eventSource: { startingPosition: lambda.StartingPosition.AT_TIMESTAMP, startingPositionTimestamp: 1 },
      })),
    ).toEqual([
      "Pipeline 'order-revenue': A table source cannot start AT_TIMESTAMP (DynamoDB streams have no such iterator): use TRIM_HORIZON or LATEST",
    ]);
    for (const parallelizationFactor of [2, 10])
      expect(problems((s) => ({ table: ordersTable(s), eventSource: { parallelizationFactor } }))).toEqual([
        `Pipeline 'order-revenue': A table source's mapping reads a shard one batch at a time (given parallelizationFactor ${parallelizationFactor}): its batches are fenced per shard in order, and a lower batch finishing after a higher one would be lost; leave parallelizationFactor at 1`,
      ]);
    expect(problems((s) => ({ table: ordersTable(s), eventSource: { parallelizationFactor: 1 } }))).toEqual(
      [],
    );
    expect(problems((s) => ({ table: ordersTable(s, { name: 'flights' }) }), pipelineSpec())).toEqual([
      "Pipeline 'flight-delays': A table is given but the pipeline reads stream 'flights': read the table with fromTable(), or give no table",
    ]);
  });

  it('when an imported table with its stream ARN is given, the mapping and grants use that ARN', () => {
    const stack = newStack();
    const arn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000';
    const table = dynamodb.Table.fromTableAttributes(stack, 'Imported', {
      tableName: 'orders',
      tableStreamArn: arn,
    });
    build(stack, { table });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: arn });
    expect(
      grantsOf(statementsOf(template, 'shardflow tick of pipeline order-revenue'), 'dynamodb'),
    ).toContainEqual({
      actions: ['dynamodb:DescribeStream'],
      resource: arn,
    });
  });

  it('when ShardflowStack deploys a table-source pipeline with its table, it creates no stream for it', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const users = new Stack(app, 'Tables', { env: { account: '123456789012', region: 'eu-west-1' } });
    const table = ordersTable(users);
    const stack = new ShardflowStack(app, 'Shardflow', {
      pipelines: [{ ...deployed(TABLE_SPEC), table }, deployed(pipelineSpec())],
      ...FIXTURE_ENTRIES,
      analytics: false,
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'flights' });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    // The table's mapping has a tumbling window (its events name their shard); the Kinesis one has none.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: stack.resolve(table.tableStreamArn),
      TumblingWindowInSeconds: 900,
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Stream'), 'Arn'] },
      TumblingWindowInSeconds: Match.absent(),
    });
  });
});
