/**
 * A table-source pipeline whose module declares its table's key (`sourceTable`): the stack creates the table,
 * named and streamed as `fromTable()` says, and the pipeline reads its stream; what the example app does for
 * `functions/pipelines/orders/orderRevenue.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { PipelineSpec } from '../../../functions/core/types';
import { sourceTableOfModule } from '../../../lib/sourceTableOfModule';
import { ValidationError } from '../../../lib/errors';
import { validateShardflowStackProps } from '../../../lib/stacks/ShardflowStack';
import { buildStack, deployed, pipelineSpec } from '../helpers';

const TABLE_SPEC: PipelineSpec = pipelineSpec({
  name: 'order-revenue',
  source: { stream: 'orders', table: { view: 'NEW_AND_OLD_IMAGES' } },
  sink: { table: 'order_revenue_by_status' },
});
const KEY = { partitionKey: { name: 'orderId', type: 'S' } } as const;

describe('a stack creating the table a pipeline reads (sourceTable)', () => {
  it('when the example module declares its key, the app reads it', () => {
    expect(sourceTableOfModule('functions/pipelines/orders/orderRevenue.ts')).toEqual(KEY);
    expect(sourceTableOfModule('functions/pipelines/pageActivity.ts')).toBeUndefined();
  });

  it('when the module cannot be loaded, reading its sourceTable fails naming the module and why, as loading its pipeline does', () => {
    expect(() => sourceTableOfModule('functions/pipelines/missing.ts')).toThrow(
      /^Pipeline module functions\/pipelines\/missing.ts does not exist \(resolved to .*missing.ts\)$/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'shardflow-module-'));
    const broken = join(dir, 'broken.js');
    writeFileSync(broken, "throw new Error('boom at load');\n");
    try {
      expect(() => sourceTableOfModule(broken)).toThrow(
        `Cannot load pipeline module ${broken}: boom at load`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a table-source pipeline is given neither a table nor a sourceTable, it says to export sourceTable from its module or give a table', () => {
    expect(validateShardflowStackProps({ pipelines: [deployed(TABLE_SPEC)] })).toEqual([
      "Pipeline 'order-revenue' reads table 'orders' (fromTable) but is given no table: export const sourceTable = { partitionKey: { name, type } } from its module (the stack creates the table), or give table (a dynamodb.ITable with a NEW_AND_OLD_IMAGES stream)",
    ]);
    const entry = 'functions/pipelines/orders/orderRevenue.ts';
    expect(validateShardflowStackProps({ pipelines: [{ entry }] }, [TABLE_SPEC])).toEqual([
      `Pipeline 'order-revenue' reads table 'orders' (fromTable) but is given no table: export const sourceTable = { partitionKey: { name, type } } from ${entry} (the stack creates the table), or give table (a dynamodb.ITable with a NEW_AND_OLD_IMAGES stream)`,
    ]);
  });

  it('when a sourceTable deployment has several problems, of its key and of the pipeline, one pass names them all', () => {
    expect(
      validateShardflowStackProps({
        pipelines: [
          {
            ...deployed(TABLE_SPEC),
            sourceTable: { partitionKey: { name: '', type: 'S' } },
            eventSource: { parallelizationFactor: 2 },
          },
        ],
      }),
    ).toEqual([
      `sourceTable of pipeline 'order-revenue'.partitionKey.name must be an attribute name of 1 to 255 characters (given "")`,
      "Pipeline 'order-revenue': A table source's mapping reads a shard one batch at a time (given parallelizationFactor 2): its batches are fenced per shard in order, and a lower batch finishing after a higher one would be lost; leave parallelizationFactor at 1",
    ]);
  });

  it("when a sourceTable is given, the stack creates the table with the pipeline's name, key and stream view, its mapping reads that stream, and cdk-nag is clean", () => {
    const stack = buildStack(
      { pipelines: [{ ...deployed(TABLE_SPEC), sourceTable: KEY }], analytics: false },
      'Cdc',
      { bundle: false },
    );
    const template = Template.fromStack(stack);
    const tables = template.findResources('AWS::DynamoDB::Table', { Properties: { TableName: 'orders' } });
    const [id] = Object.keys(tables);
    expect(tables[id!]?.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [id, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
    });
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.join(' ')}`)).toEqual([]);
  });

  it('when the sourceTable is malformed, given with a table, or given to a stream pipeline, it names each problem', () => {
    const problems = (pipeline: Record<string, unknown>): readonly string[] => {
      try {
        buildStack({ pipelines: [pipeline as never], analytics: false }, 'Bad', { bundle: false });
      } catch (error) {
        if (error instanceof ValidationError) return error.problems;
        throw error;
      }
      return [];
    };
    expect(
      problems({ ...deployed(TABLE_SPEC), sourceTable: { partitionKey: { name: '', type: 'X' } } }),
    ).toEqual([
      `sourceTable of pipeline 'order-revenue'.partitionKey.name must be an attribute name of 1 to 255 characters (given "")`,
      `sourceTable of pipeline 'order-revenue'.partitionKey.type must be 'S', 'N' or 'B' (given "X")`,
    ]);
    expect(problems({ ...deployed(TABLE_SPEC), sourceTable: 'orderId' })).toEqual([
      `sourceTable of pipeline 'order-revenue' must be { partitionKey: { name, type: 'S' | 'N' | 'B' }, sortKey? } (given "orderId")`,
    ]);
    expect(
      validateShardflowStackProps({
        pipelines: [{ ...deployed(TABLE_SPEC), sourceTable: KEY, table: {} as dynamodb.ITable }],
      }),
    ).toEqual([
      "Pipeline 'order-revenue' is given both a table and a sourceTable: give one (the table, or the key of the table the stack creates)",
    ]);
    expect(problems({ ...deployed(pipelineSpec()), sourceTable: KEY })).toEqual([
      `A sourceTable is given but pipeline 'flight-delays' reads stream 'flights': read the table with fromTable(), or give no sourceTable`,
    ]);
  });
});
