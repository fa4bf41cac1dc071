import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV, METRICS, SERVICE_NAMES } from '../../../functions/core/constants';
import type { PipelineSpec } from '../../../functions/core/types';
import { validateShardflowStackProps, type ShardflowStack } from '../../../lib/stacks/ShardflowStack';
import { buildStack, deployed, findWildcardGrants, pipelineSpec } from '../helpers';

/** Stage 1 reads `clickstream` and publishes to `sessions`; stage 2 reads `sessions` (2 shards). */
const stage1 = (): PipelineSpec =>
  pipelineSpec({
    name: 'clean-clicks',
    source: { stream: 'clickstream' },
    sink: { table: 'clicks_minutely' },
    publish: { stream: 'sessions' },
  });
const stage2 = (): PipelineSpec =>
  pipelineSpec({
    name: 'session-rollup',
    source: { stream: 'sessions', shards: 2 },
    sink: { table: 'rollup' },
  });

describe('ShardflowStack with two stages', () => {
  let stack: ShardflowStack;
  let template: Template;
  const id = (construct: { node: { defaultChild?: unknown } }): string =>
    stack.getLogicalId(construct.node.defaultChild as never);

  beforeAll(() => {
    // GIVEN a publishing pipeline listed before the pipeline reading its output
    stack = buildStack({ pipelines: [deployed(stage1()), deployed(stage2())] }, 'Test', { bundle: false });
    // WHEN
    template = Template.fromStack(stack);
  });

  it('when a pipeline publishes to the stream another reads, that stream is created once, encrypted, with the reader’s shards', () => {
    const streams = template.findResources('AWS::Kinesis::Stream');
    expect(
      Object.values(streams)
        .map((s) => (s.Properties as { Name: string }).Name)
        .sort(),
    ).toEqual(['clickstream', 'sessions']);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: 'sessions',
      ShardCount: 2,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
    expect(stack.pipelines.get('clean-clicks')!.publishStream).toBe(
      stack.pipelines.get('session-rollup')!.stream,
    );
  });

  it('when the publisher runs, it has PutRecords on that stream only, and the stream name in its environment', () => {
    const publisher = stack.operatorOf('clean-clicks')!;
    const sessions = id(stack.pipelines.get('session-rollup')!.stream!);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Environment: { Variables: Match.objectLike({ [ENV.PUBLISH_STREAM]: { Ref: sessions } }) },
    });
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (
          p.Properties as {
            PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
          }
        ).PolicyDocument.Statement,
    );
    const putting = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kinesis:Put')));
    expect(putting).toEqual([
      expect.objectContaining({
        Action: 'kinesis:PutRecords',
        Resource: { 'Fn::GetAtt': [sessions, 'Arn'] },
      }),
    ]);
    const publisherRole = stack.getLogicalId(publisher.role!.node.defaultChild as never);
    const policyOfPublisher = Object.values(policies).find((p) =>
      JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(publisherRole),
    );
    expect(JSON.stringify(policyOfPublisher)).toContain('kinesis:PutRecords');
    expect(findWildcardGrants(template)).toEqual([]);
    // The reader's own function gets no environment to publish.
    const reader = stack.getLogicalId(stack.operatorOf('session-rollup')!.node.defaultChild as never);
    const variables = (
      template.toJSON().Resources[reader].Properties as { Environment: { Variables: object } }
    ).Environment.Variables;
    expect(variables).not.toHaveProperty(ENV.PUBLISH_STREAM);
  });

  it('when a pipeline publishes, it has an alarm on publish failures; the reader has none', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'shardflow-clean-clicks-publish-failures',
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: METRICS.PUBLISH_FAILURES,
              Dimensions: Match.arrayWith([
                { Name: METRICS.PIPELINE_DIMENSION, Value: 'clean-clicks' },
                { Name: METRICS.SERVICE_DIMENSION, Value: SERVICE_NAMES.OPERATOR },
              ]),
            }),
          }),
        }),
      ]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(stack.pipelines.get('session-rollup')!.alarms.publishFailures).toBeUndefined();
  });

  it('when AwsSolutions checks run, there is no finding', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('when no pipeline of the stack reads the published stream, the publisher creates it, encrypted', () => {
    const alone = Template.fromStack(
      buildStack({ pipelines: [deployed(stage1())] }, 'Alone', { bundle: false }),
    );
    alone.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: 'sessions',
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  it('when pipelines feed each other in a cycle or two publish to one stream, the props are refused naming them', () => {
    const back = pipelineSpec({ ...stage2(), publish: { stream: 'clickstream' } });
    expect(validateShardflowStackProps({ pipelines: [] }, [stage1(), back])).toEqual([
      'Pipelines must not feed each other in a cycle (given clean-clicks → session-rollup → clean-clicks)',
    ]);
    const twin = pipelineSpec({
      ...stage1(),
      name: 'twin',
      source: { stream: 'other' },
      sink: { table: 'twin' },
    });
    expect(validateShardflowStackProps({ pipelines: [] }, [stage1(), twin])).toEqual([
      "Streams pipelines publish to must be unique (given 'sessions' more than once)",
    ]);
  });
});
