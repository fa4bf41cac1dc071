import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defaultPipelines } from '../../functions/pipelines';
import { GLUE_COLUMN_TYPES } from '../../lib/constructs/ResultTable';
import { buildStack } from './helpers';

describe('the shipped default pipelines', () => {
  it('when deployed by ShardflowStack, they pass validation, get a Glue table each with their columns, and nag stays clean', () => {
    // GIVEN the pipelines lib/app.ts deploys (handlers replaced by the fixtures)
    expect(defaultPipelines.length).toBeGreaterThan(0);
    // WHEN
    const stack = buildStack({ pipelines: defaultPipelines }, 'Default', { bundle: false });
    const template = Template.fromStack(stack);
    // THEN
    for (const { spec } of defaultPipelines) {
      template.hasResourceProperties('AWS::Kinesis::Stream', { Name: spec.source.stream });
      template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: {
          Name: spec.sink!.table,
          StorageDescriptor: {
            Columns: spec.columns.map((c) => ({
              Name: c.name,
              Type: GLUE_COLUMN_TYPES[c.type],
              ...(c.comment ? { Comment: c.comment } : {}),
            })),
          },
        },
      } as never);
    }
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('when analytics is off, it leaves out Glue, Athena and their outputs but keeps the pipeline running', () => {
    // GIVEN / WHEN
    const stack = buildStack({ pipelines: defaultPipelines, analytics: false }, 'NoAnalytics', {
      bundle: false,
    });
    const template = Template.fromStack(stack);
    // THEN
    for (const type of [
      'AWS::Glue::Database',
      'AWS::Glue::Table',
      'AWS::Athena::WorkGroup',
      'AWS::Athena::NamedQuery',
    ]) {
      template.resourceCountIs(type, 0);
    }
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual(
      [
        'ResultsBucketName',
        'StateTableName',
        ...defaultPipelines.flatMap((p) => {
          const scope = p.spec.name
            .split('-')
            .map((w) => w[0]!.toUpperCase() + w.slice(1))
            .join('');
          return ['StreamName', 'FailurePrefix', 'OperatorFunction', 'TickFunction'].map(
            (o) => `${o}${scope}`,
          );
        }),
      ].sort(),
    );
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', defaultPipelines.length);
    expect(stack.catalog).toBeUndefined();
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
