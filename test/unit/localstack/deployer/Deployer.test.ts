import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Deployer } from '../../../../localstack/deployer/Deployer';
import { DeployerError } from '../../../../localstack/deployer/errors';
import { planDeployment } from '../../../../localstack/deployer/planDeployment';
import type { CfnTemplate } from '../../../../localstack/deployer/types';

/** Records the commands a client receives; answers from a script, or throws a named error. */
class FakeClient {
  public readonly commands: { name: string; input: Record<string, unknown> }[] = [];
  public constructor(
    private readonly answer: (name: string, input: Record<string, unknown>) => unknown = () => ({}),
  ) {}
  public async send(command: {
    constructor: { name: string };
    input: Record<string, unknown>;
  }): Promise<unknown> {
    const name = command.constructor.name;
    this.commands.push({ name, input: command.input });
    const result = this.answer(name, command.input);
    if (result instanceof Error) throw result;
    return result;
  }
}

const named = (name: string): Error => Object.assign(new Error(name), { name });

const template: CfnTemplate = {
  Resources: {
    Stream: {
      Type: 'AWS::Kinesis::Stream',
      Properties: { Name: 's', StreamModeDetails: { StreamMode: 'ON_DEMAND' } },
    },
    Table: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 't',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'g', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'gi',
            KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      },
    },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'b' } },
    Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q.fifo', FifoQueue: true } },
  },
};

function clients(options: { exists?: boolean; ttl?: boolean; sqs?: 'ok' | 'down' } = {}) {
  const kinesis = new FakeClient((name) =>
    name === 'CreateStreamCommand' && options.exists
      ? named('ResourceInUseException')
      : { StreamDescriptionSummary: { StreamStatus: 'ACTIVE' } },
  );
  const dynamoDb = new FakeClient((name) => {
    if (name === 'CreateTableCommand' && options.exists) return named('ResourceInUseException');
    if (name === 'UpdateTimeToLiveCommand' && options.ttl === false)
      return named('UnknownOperationException');
    return { Table: { TableStatus: 'ACTIVE' } };
  });
  const s3 = new FakeClient((name) =>
    name === 'CreateBucketCommand' && options.exists ? named('BucketAlreadyOwnedByYou') : {},
  );
  const sqs = new FakeClient(() => (options.sqs === 'down' ? named('ECONNREFUSED') : {}));
  return { kinesis, dynamoDb, s3, sqs };
}

const plan = planDeployment(template, { stackName: 'S' }, () => undefined);

describe('Deployer', () => {
  it('when resources are new, it creates each with its settings and enables TTL', async () => {
    const c = clients({ sqs: 'ok' });
    const deployment = await new Deployer(
      {
        kinesis: c.kinesis as unknown as KinesisClient,
        dynamoDb: c.dynamoDb as unknown as DynamoDBClient,
        s3: c.s3 as unknown as S3Client,
        sqs: c.sqs as unknown as SQSClient,
      },
      { onDemandShards: 3 },
    ).deploy(plan);
    expect(c.kinesis.commands[0]).toEqual({
      name: 'CreateStreamCommand',
      input: { StreamName: 's', ShardCount: 3 },
    });
    expect(c.dynamoDb.commands.map((x) => x.name)).toEqual([
      'CreateTableCommand',
      'DescribeTableCommand',
      'UpdateTimeToLiveCommand',
    ]);
    expect(c.dynamoDb.commands[0]?.input).toMatchObject({
      TableName: 't',
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      GlobalSecondaryIndexes: [{ IndexName: 'gi', Projection: { ProjectionType: 'KEYS_ONLY' } }],
    });
    expect(c.s3.commands).toEqual([{ name: 'CreateBucketCommand', input: { Bucket: 'b' } }]);
    expect(c.sqs.commands).toEqual([
      { name: 'CreateQueueCommand', input: { QueueName: 'q.fifo', Attributes: { FifoQueue: 'true' } } },
    ]);
    expect(deployment.localQueues).toEqual([]);
    expect(deployment.warnings).toEqual([]);
  });

  it('when resources already exist, it succeeds without recreating them', async () => {
    const c = clients({ exists: true });
    const deployment = await new Deployer({
      kinesis: c.kinesis as unknown as KinesisClient,
      dynamoDb: c.dynamoDb as unknown as DynamoDBClient,
      s3: c.s3 as unknown as S3Client,
    }).deploy(plan);
    expect(deployment.streams.map((s) => s.name)).toEqual(['s']);
    expect(c.dynamoDb.commands.map((x) => x.name)).not.toContain('UpdateTimeToLiveCommand');
  });

  it('when the emulator has no TTL or SQS, it warns and uses a local queue instead of failing', async () => {
    const c = clients({ ttl: false, sqs: 'down' });
    const deployment = await new Deployer({
      kinesis: c.kinesis as unknown as KinesisClient,
      dynamoDb: c.dynamoDb as unknown as DynamoDBClient,
      s3: c.s3 as unknown as S3Client,
      sqs: c.sqs as unknown as SQSClient,
    }).deploy(plan);
    expect(deployment.localQueues).toEqual(['q.fifo']);
    expect(deployment.warnings).toEqual([
      'table t: TTL on ttl not set by the emulator (UnknownOperationException)',
      'queue q.fifo: SQS unavailable (ECONNREFUSED), using a local file destination',
    ]);
  });

  it('when a create call fails for another reason, it throws a DeployerError with the cause', async () => {
    const c = clients();
    const s3 = new FakeClient(() => named('AccessDenied'));
    const deploying = new Deployer({
      kinesis: c.kinesis as unknown as KinesisClient,
      dynamoDb: c.dynamoDb as unknown as DynamoDBClient,
      s3: s3 as unknown as S3Client,
    }).deploy(plan);
    const error = await deploying.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeployerError);
    expect((error as DeployerError).message).toBe('cannot create bucket b');
    expect(((error as DeployerError).cause as Error).name).toBe('AccessDenied');
  });
});
