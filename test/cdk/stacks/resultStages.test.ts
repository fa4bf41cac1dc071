import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BUCKET_PREFIX, ENV, METRICS, SERVICE_NAMES } from '../../../functions/core/constants';
import type { PipelineSpec } from '../../../functions/core/types';
import { validateShardflowStackProps, type ShardflowStack } from '../../../lib/stacks/ShardflowStack';
import { buildStack, deployed, findWildcardGrants, pipelineSpec } from '../helpers';

/** Stage 1 rolls clicks up per minute and publishes its result rows to `minutes`; stage 2 reads `minutes`. */
const minutes = (): PipelineSpec =>
  pipelineSpec({
    name: 'page-minutes',
    source: { stream: 'clickstream' },
    sink: { table: 'page_minutes', toStream: 'minutes' },
  });
const hours = (): PipelineSpec =>
  pipelineSpec({
    name: 'page-hours',
    source: { stream: 'minutes', shards: 2 },
    sink: { table: 'page_hours' },
  });

describe('ShardflowStack with a pipeline publishing its results (sink toStream)', () => {
  let stack: ShardflowStack;
  let template: Template;
  const id = (construct: { node: { defaultChild?: unknown } }): string =>
    stack.getLogicalId(construct.node.defaultChild as never);

  beforeAll(() => {
    stack = buildStack({ pipelines: [deployed(minutes()), deployed(hours())] }, 'Test', { bundle: false });
    template = Template.fromStack(stack);
  });

  it('when a pipeline publishes its results to the stream another reads, that stream is the reader’s, created once', () => {
    const names = Object.values(template.findResources('AWS::Kinesis::Stream'))
      .map((s) => (s.Properties as { Name: string }).Name)
      .sort();
    expect(names).toEqual(['clickstream', 'minutes']);
    expect(stack.pipelines.get('page-minutes')!.publishStream).toBe(
      stack.pipelines.get('page-hours')!.stream,
    );
  });

  it('when the close pass runs in the operator or the tick, both have PutRecords on that stream only and its name in their environment', () => {
    const pipeline = stack.pipelines.get('page-minutes')!;
    const stream = id(stack.pipelines.get('page-hours')!.stream!);
    const policies = template.findResources('AWS::IAM::Policy');
    const putsOf = (fn: { role?: { node: { defaultChild?: unknown } } }) => {
      const role = stack.getLogicalId(fn.role!.node.defaultChild as never);
      return Object.values(policies)
        .filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(role))
        .flatMap(
          (p) =>
            (
              p.Properties as {
                PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
              }
            ).PolicyDocument.Statement,
        )
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('kinesis:Put')));
    };
    const expected = [
      expect.objectContaining({ Action: 'kinesis:PutRecords', Resource: { 'Fn::GetAtt': [stream, 'Arn'] } }),
    ];
    expect(putsOf(pipeline.operator.function)).toEqual(expected);
    expect(putsOf(pipeline.tick.function)).toEqual(expected);
    for (const fn of [pipeline.operator.function, pipeline.tick.function]) {
      const variables = (
        template.toJSON().Resources[id(fn)].Properties as { Environment: { Variables: object } }
      ).Environment.Variables;
      expect(variables).toMatchObject({ [ENV.PUBLISH_STREAM]: { Ref: stream } });
    }
    // The reader puts nowhere and gets no stream to publish to.
    const reader = stack.pipelines.get('page-hours')!;
    expect(putsOf(reader.operator.function)).toEqual([]);
    expect(putsOf(reader.tick.function)).toEqual([]);
    expect(
      (
        template.toJSON().Resources[id(reader.tick.function)].Properties as {
          Environment: { Variables: object };
        }
      ).Environment.Variables,
    ).not.toHaveProperty(ENV.PUBLISH_STREAM);
    expect(findWildcardGrants(template)).toEqual([]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'shardflow-page-minutes-publish-failures',
      Metrics: Match.anyValue(),
    });
  });

  it('when a result publish fails in the operator or in the tick, the publish failures alarm counts both', () => {
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (a) => (a.Properties as { AlarmName: string }).AlarmName === 'shardflow-page-minutes-publish-failures',
    )!.Properties as {
      Threshold: number;
      Metrics: {
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } };
      }[];
    };
    expect(alarm.Threshold).toBe(1);
    const stats = alarm.Metrics.flatMap((m) => (m.MetricStat === undefined ? [] : [m.MetricStat.Metric]));
    expect(stats).toEqual(
      [SERVICE_NAMES.OPERATOR, SERVICE_NAMES.TICK].map((service) => ({
        Namespace: METRICS.NAMESPACE,
        MetricName: METRICS.PUBLISH_FAILURES,
        Dimensions: expect.arrayContaining([
          { Name: METRICS.SERVICE_DIMENSION, Value: service },
          { Name: METRICS.PIPELINE_DIMENSION, Value: 'page-minutes' },
        ]),
      })),
    );
    expect(alarm.Metrics.find((m) => m.Expression !== undefined)?.Expression).toMatch(/\+/);
  });

  it('when a result row is dead-lettered (over the record limit), an alarm sums its count from the operator and the tick of that pipeline', () => {
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (a) =>
        (a.Properties as { AlarmName: string }).AlarmName === 'shardflow-page-minutes-results-dead-lettered',
    )?.Properties as {
      Threshold: number;
      ComparisonOperator: string;
      Metrics: {
        Id: string;
        Expression?: string;
        ReturnData?: boolean;
        MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown } };
      }[];
    };
    expect(alarm.Threshold).toBe(1);
    expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    const stats = Object.fromEntries(
      alarm.Metrics.flatMap((m) => (m.MetricStat === undefined ? [] : [[m.Id, m.MetricStat.Metric]])),
    );
    const metric = (service: string) => ({
      Namespace: METRICS.NAMESPACE,
      MetricName: METRICS.RESULTS_DEAD_LETTERED,
      Dimensions: expect.arrayContaining([
        { Name: METRICS.SERVICE_DIMENSION, Value: service },
        { Name: METRICS.PIPELINE_DIMENSION, Value: 'page-minutes' },
      ]),
    });
    expect(stats).toEqual({
      resultsdeadletteredop: metric(SERVICE_NAMES.OPERATOR),
      resultsdeadletteredtick: metric(SERVICE_NAMES.TICK),
    });
    for (const m of Object.values(stats)) expect((m as { Dimensions: unknown[] }).Dimensions).toHaveLength(2);
    expect(alarm.Metrics.filter((m) => m.Expression !== undefined)).toEqual([
      expect.objectContaining({
        Expression: 'FILL(resultsdeadletteredop, 0) + FILL(resultsdeadletteredtick, 0)',
        ReturnData: true,
      }),
    ]);
    expect(stack.pipelines.get('page-hours')!.alarms.resultsDeadLettered).toBeUndefined();
  });

  it("when a result row is dead-lettered, the operator and the tick that publish may put it under rejected-results/<their table>/ only, never under another's or under rejected/", () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const bucketArn = { 'Fn::GetAtt': [id(stack.resultsBucket.bucket), 'Arn'] };
    const statementsOf = (fn: { role?: { node: { defaultChild?: unknown } } }) => {
      const role = stack.getLogicalId(fn.role!.node.defaultChild as never);
      return Object.values(policies)
        .filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(role))
        .flatMap(
          (p) =>
            (p.Properties as { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } })
              .PolicyDocument.Statement,
        );
    };
    const letters = { 'Fn::Join': ['', [bucketArn, '/rejected-results/page_minutes/*']] };
    const writer = stack.pipelines.get('page-minutes')!;
    for (const fn of [writer.operator.function, writer.tick.function]) {
      const statements = statementsOf(fn);
      // Exactly one statement names the result dead letters: put only, on that one table's prefix.
      expect(statements.filter((st) => JSON.stringify(st.Resource).includes('rejected-results'))).toEqual([
        { Action: 's3:PutObject', Effect: 'Allow', Resource: letters },
      ]);
      // Nothing it may write under rejected/ names the result table (only its source stream's records).
      expect(
        statements.filter((st) => JSON.stringify(st.Resource).includes('/rejected/page_minutes')),
      ).toEqual([]);
    }
    // A pipeline that does not publish its results writes no result dead letters.
    const reader = stack.pipelines.get('page-hours')!;
    for (const fn of [reader.operator.function, reader.tick.function])
      expect(
        statementsOf(fn).filter((st) => JSON.stringify(st.Resource).includes('rejected-results')),
      ).toEqual([]);
    // They expire like rejected records.
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: BUCKET_PREFIX.REJECTED_RESULTS,
            ExpirationInDays: 30,
            Status: 'Enabled',
          }),
        ]),
      },
    });
  });

  it('when AwsSolutions checks run, there is no finding', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('when result links make a cycle or two pipelines publish to one stream, the props are refused naming them', () => {
    const back = pipelineSpec({ ...hours(), sink: { table: 'page_hours', toStream: 'clickstream' } });
    expect(validateShardflowStackProps({ pipelines: [] }, [minutes(), back])).toEqual([
      'Pipelines must not feed each other in a cycle (given page-minutes → page-hours → page-minutes)',
    ]);
    const records = pipelineSpec({
      name: 'records',
      source: { stream: 'other' },
      sink: { table: 'other' },
      publish: { stream: 'minutes' },
    });
    expect(validateShardflowStackProps({ pipelines: [] }, [minutes(), records])).toEqual([
      "Streams pipelines publish to must be unique (given 'minutes' more than once)",
    ]);
  });
});
