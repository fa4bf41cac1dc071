import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { PipelineSpec } from '../../../functions/core/types';
import { validatePipelineDeployment } from '../../../lib/constructs/ShardflowPipeline';
import type { ShardflowStack } from '../../../lib/stacks/ShardflowStack';
import { buildStack, deployed, findWildcardGrants, pipelineSpec, publishOnlySpec } from '../helpers';

/** Stage 1 only cleans `clickstream` and publishes to `sessions`; stage 2 reads `sessions` into a table. */
const stage1 = (): PipelineSpec => publishOnlySpec('clean-clicks', 'clickstream', 'sessions');
const stage2 = (): PipelineSpec =>
  pipelineSpec({
    name: 'session-rollup',
    source: { stream: 'sessions', shards: 2 },
    sink: { table: 'rollup' },
  });

type Statement = { Action: string | string[]; Resource: unknown };

describe('ShardflowStack with a publish-only stage', () => {
  let stack: ShardflowStack;
  let template: Template;
  /** The IAM statements of the policies attached to `fn`'s role. */
  const statementsOf = (fn: { role?: { node: { defaultChild?: unknown } } }): Statement[] => {
    const role = stack.getLogicalId(fn.role!.node.defaultChild as never);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(role))
      .flatMap(
        (p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
      );
  };

  beforeAll(() => {
    stack = buildStack({ pipelines: [deployed(stage1()), deployed(stage2())] }, 'Test', { bundle: false });
    template = Template.fromStack(stack);
  });

  it('when a stage only publishes, it gets no Glue table: the one table is the reader’s', () => {
    const tables = Object.values(template.findResources('AWS::Glue::Table'));
    expect(tables.map((t) => (t.Properties as { TableInput: { Name: string } }).TableInput.Name)).toEqual([
      'rollup',
    ]);
    expect(stack.pipelines.get('clean-clicks')!.resultTable).toBeUndefined();
  });

  it('when it runs, its operator may put records on the stream it publishes to only, and neither of its functions may write results or late records', () => {
    const publisher = stack.pipelines.get('clean-clicks')!;
    const operator = statementsOf(publisher.operator.function);
    const tick = statementsOf(publisher.tick.function);
    const sessions = stack.getLogicalId(
      stack.pipelines.get('session-rollup')!.stream!.node.defaultChild as never,
    );
    expect(operator.filter((s) => [s.Action].flat().some((a) => a.startsWith('kinesis:Put')))).toEqual([
      expect.objectContaining({
        Action: 'kinesis:PutRecords',
        Resource: { 'Fn::GetAtt': [sessions, 'Arn'] },
      }),
    ]);
    expect(JSON.stringify(tick)).not.toContain('kinesis:Put');
    for (const statements of [operator, tick]) {
      expect(JSON.stringify(statements)).not.toContain('results/');
      expect(JSON.stringify(statements)).not.toContain('late/');
    }
    expect(JSON.stringify(operator)).toContain('/rejected/');
    expect(findWildcardGrants(template)).toEqual([]);
  });

  it('when it publishes, it has its publish-failure alarm and its operator and tick', () => {
    const publisher = stack.pipelines.get('clean-clicks')!;
    expect(publisher.alarms.publishFailures).toBeDefined();
    expect(publisher.tick.rule).toBeDefined();
  });

  it('when AwsSolutions checks run, there is no finding', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('when a spec has neither a result table nor a stream to publish to, the deployment is refused', () => {
    const { publish: _publish, ...nothing } = stage1();
    expect(validatePipelineDeployment(nothing, {})).toEqual([
      "Pipeline 'clean-clicks': A pipeline without a result table must publish (toStream): give it a sink or a toStream",
    ]);
    expect(validatePipelineDeployment(stage1(), {})).toEqual([]);
  });
});
