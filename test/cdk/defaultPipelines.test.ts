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
    const stack = buildStack({ pipelines: defaultPipelines });
    const template = Template.fromStack(stack);
    // THEN
    for (const { spec } of defaultPipelines) {
      template.hasResourceProperties('AWS::Kinesis::Stream', { Name: spec.source.stream });
      template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: {
          Name: spec.sink.table,
          StorageDescriptor: {
            Columns: spec.columns.map((c) => ({ Name: c.name, Type: GLUE_COLUMN_TYPES[c.type], ...(c.comment ? { Comment: c.comment } : {}) })),
          },
        },
      } as never);
    }
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
