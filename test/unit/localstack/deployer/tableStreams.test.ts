/**
 * A table-source pipeline on the local deployer: DynamoDB names a table's stream by its creation time, so the
 * tables are planned and created first (with their stream), and the rest of the template is planned with the
 * real stream ARNs, which reach the mapping and the functions' environment.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { Deployer } from '../../../../localstack/deployer/Deployer';
import { DeployerError, TemplateResolutionError } from '../../../../localstack/deployer/errors';
import { planDeployment, planTables } from '../../../../localstack/deployer/planDeployment';
import type { CfnTemplate } from '../../../../localstack/deployer/types';

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-12-06T16:40:00.123';

const template: CfnTemplate = {
  Resources: {
    Orders: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'orders',
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
    },
    Operator: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: 'operator',
        Handler: 'index.handler',
        Code: { S3Key: 'abc.zip' },
        Environment: { Variables: { SHARDFLOW_STREAM_NAME: { 'Fn::GetAtt': ['Orders', 'StreamArn'] } } },
      },
    },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'Operator' },
        EventSourceArn: { 'Fn::GetAtt': ['Orders', 'StreamArn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
      },
    },
  },
  Outputs: { StreamNameOrderRevenue: { Value: { 'Fn::GetAtt': ['Orders', 'StreamArn'] } } },
};

const locate = (): string => '/nowhere/bundle';

/** A DynamoDB client that records commands and answers DescribeTable with `described`. */
function dynamoDb(described: Record<string, unknown>, exists = false) {
  const commands: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      commands.push({ name, input: command.input });
      if (name === 'CreateTableCommand' && exists)
        throw Object.assign(new Error('in use'), { name: 'ResourceInUseException' });
      return name === 'DescribeTableCommand' ? { Table: { TableStatus: 'ACTIVE', ...described } } : {};
    },
  };
  return { commands, client: client as unknown as DynamoDBClient };
}

const deployer = (client: DynamoDBClient): Deployer =>
  new Deployer({
    kinesis: {} as KinesisClient,
    dynamoDb: client,
    s3: {} as S3Client,
  });

describe('a table with a stream on the local deployer', () => {
  it('when tables are planned alone, the table carries its stream view type and nothing else is planned', () => {
    expect(planTables(template, { stackName: 'S' })).toEqual([
      expect.objectContaining({ logicalId: 'Orders', name: 'orders', streamViewType: 'NEW_AND_OLD_IMAGES' }),
    ]);
  });

  it("when the template is planned without the tables' stream ARNs, it refuses, naming the table and the order to follow", () => {
    expect(() => planDeployment(template, { stackName: 'S' }, locate)).toThrow(TemplateResolutionError);
    expect(() => planDeployment(template, { stackName: 'S' }, locate)).toThrow(
      /the stream ARN of table Orders is known once the table exists: create the tables first/,
    );
  });

  it("when planned with the created table's stream ARN, the mapping reads that stream and the operator and the output name it", () => {
    const plan = planDeployment(
      template,
      { stackName: 'S', tableStreamArns: { Orders: STREAM_ARN } },
      locate,
    );
    expect(plan.unsupported).toEqual([]);
    expect(plan.mappings).toEqual([
      expect.objectContaining({
        functionName: 'operator',
        eventSourceArn: STREAM_ARN,
        startingPosition: 'TRIM_HORIZON',
        batchSize: 100,
      }),
    ]);
    expect(plan.functions[0]?.environment).toEqual({ SHARDFLOW_STREAM_NAME: STREAM_ARN });
    expect(plan.outputs).toEqual({ StreamNameOrderRevenue: STREAM_ARN });
  });

  it('when a mapping reads neither a Kinesis stream nor a table stream, it is unsupported with the reason', () => {
    const sqs: CfnTemplate = {
      Resources: {
        ...template.Resources,
        Mapping: {
          Type: 'AWS::Lambda::EventSourceMapping',
          Properties: { FunctionName: 'operator', EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:q' },
        },
      },
    };
    const plan = planDeployment(sqs, { stackName: 'S', tableStreamArns: { Orders: STREAM_ARN } }, locate);
    expect(plan.mappings).toEqual([]);
    expect(plan.unsupported).toEqual([
      {
        logicalId: 'Mapping',
        type: 'AWS::Lambda::EventSourceMapping',
        reason:
          "event source arn:aws:sqs:us-east-1:000000000000:q is not a Kinesis stream or a table's DynamoDB stream",
      },
    ]);
  });

  it('when the tables are created, each is created with its stream and its latest stream ARN is returned by logical id', async () => {
    const db = dynamoDb({
      LatestStreamArn: STREAM_ARN,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    const arns = await deployer(db.client).createTables(planTables(template, { stackName: 'S' }));
    expect(arns).toEqual({ Orders: STREAM_ARN });
    expect(db.commands[0]).toEqual({
      name: 'CreateTableCommand',
      input: expect.objectContaining({
        TableName: 'orders',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    });
  });

  it('when the table exists already with its stream (a second deploy), its stream ARN is the described one', async () => {
    const db = dynamoDb(
      {
        LatestStreamArn: STREAM_ARN,
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      },
      true,
    );
    await expect(deployer(db.client).createTables(planTables(template, { stackName: 'S' }))).resolves.toEqual(
      { Orders: STREAM_ARN },
    );
  });

  it('when the table exists without the stream the template gives it, it refuses with the next step', async () => {
    const db = dynamoDb({}, true);
    const created = deployer(db.client).createTables(planTables(template, { stackName: 'S' }));
    await expect(created).rejects.toThrow(DeployerError);
    await expect(
      deployer(dynamoDb({}, true).client).createTables(planTables(template, { stackName: 'S' })),
    ).rejects.toThrow(
      'table orders exists with no stream, the template gives it a NEW_AND_OLD_IMAGES stream: stop the local cloud (its data goes) and deploy again',
    );
  });

  it('when a table has no stream, none is requested and no ARN is returned', async () => {
    const plain: CfnTemplate = {
      Resources: {
        State: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            TableName: 'state',
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          },
        },
      },
    };
    const db = dynamoDb({});
    await expect(deployer(db.client).createTables(planTables(plain, { stackName: 'S' }))).resolves.toEqual(
      {},
    );
    expect(db.commands[0]?.input).not.toHaveProperty('StreamSpecification');
  });
});
