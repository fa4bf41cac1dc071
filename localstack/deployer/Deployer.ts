import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DeployerError } from './errors';
import type { Deployment, DeploymentPlan, StreamPlan, TablePlan } from './types';

/** The clients the deployer creates resources with (from `functions/adapters/aws.ts`). */
export interface DeployerClients {
  readonly kinesis: KinesisClient;
  readonly dynamoDb: DynamoDBClient;
  readonly s3: S3Client;
  /** Omit when the local cloud has no SQS: queues then become local file destinations. */
  readonly sqs?: SQSClient;
}

export interface DeployOptions {
  /** Shard count for on-demand streams (the emulators have no on-demand scaling). @default 2 */
  readonly onDemandShards?: number;
  /** How long to wait for streams and tables to become ACTIVE. @default 30000 */
  readonly activeTimeoutMs?: number;
}

const errorName = (error: unknown): string => (error as { name?: string }).name ?? '';

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline)
      throw new DeployerError(`${what} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Creates a plan's streams, tables, buckets and queues on the local cloud. Idempotent: resources that
 * already exist are left as they are, so deploying the same template twice is safe.
 */
export class Deployer {
  public constructor(
    private readonly clients: DeployerClients,
    private readonly options: DeployOptions = {},
  ) {}

  /**
   * Creates the tables (idempotent) and returns the stream ARN of each that has a stream, by logical id: the
   * `tableStreamArns` to plan the rest of the template with (DynamoDB names a stream by its creation time).
   * Warnings (e.g. TTL the emulator does not set) go to `warnings`.
   */
  public async createTables(
    tables: readonly TablePlan[],
    warnings: string[] = [],
  ): Promise<Record<string, string>> {
    const arns = await Promise.all(tables.map((table) => this.createTable(table, warnings)));
    return Object.fromEntries(
      tables.flatMap((table, i) => (arns[i] === undefined ? [] : [[table.logicalId, arns[i]]])),
    );
  }

  public async deploy(plan: DeploymentPlan): Promise<Deployment> {
    const warnings: string[] = [];
    const localQueues: string[] = [];
    await Promise.all([
      ...plan.streams.map((stream) => this.createStream(stream)),
      this.createTables(plan.tables, warnings),
      ...plan.buckets.map((bucket) => this.createBucket(bucket.name)),
    ]);
    for (const queue of plan.queues) {
      if (this.clients.sqs === undefined) {
        localQueues.push(queue.name);
        continue;
      }
      try {
        await this.clients.sqs.send(
          new CreateQueueCommand({
            QueueName: queue.name,
            ...(queue.fifo ? { Attributes: { FifoQueue: 'true' } } : {}),
          }),
        );
      } catch (error) {
        warnings.push(
          `queue ${queue.name}: SQS unavailable (${errorName(error) || String(error)}), using a local file destination`,
        );
        localQueues.push(queue.name);
      }
    }
    return { ...plan, localQueues, warnings };
  }

  private async createStream(stream: StreamPlan): Promise<void> {
    const { kinesis } = this.clients;
    const shardCount = stream.onDemand ? (this.options.onDemandShards ?? 2) : (stream.shardCount ?? 1);
    try {
      await kinesis.send(new CreateStreamCommand({ StreamName: stream.name, ShardCount: shardCount }));
    } catch (error) {
      if (errorName(error) !== 'ResourceInUseException')
        throw new DeployerError(`cannot create stream ${stream.name}`, { cause: error });
    }
    await waitUntil(`stream ${stream.name}`, this.options.activeTimeoutMs ?? 30_000, async () => {
      const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream.name }));
      return summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    });
  }

  /** Creates a table (with its stream, if planned) unless it exists; returns its stream ARN, if any. */
  private async createTable(table: TablePlan, warnings: string[]): Promise<string | undefined> {
    const { dynamoDb } = this.clients;
    const provisioned = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
    const input: CreateTableCommandInput = {
      TableName: table.name,
      KeySchema: [...table.keySchema],
      AttributeDefinitions: [...table.attributeDefinitions],
      BillingMode: table.billingMode,
      ...(table.billingMode === 'PROVISIONED' ? { ProvisionedThroughput: provisioned } : {}),
      ...(table.globalSecondaryIndexes.length > 0
        ? {
            GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((gsi) => ({
              IndexName: gsi.IndexName,
              KeySchema: [...gsi.KeySchema],
              Projection: {
                ...(gsi.Projection.ProjectionType === undefined
                  ? {}
                  : { ProjectionType: gsi.Projection.ProjectionType as 'ALL' | 'KEYS_ONLY' | 'INCLUDE' }),
                ...(gsi.Projection.NonKeyAttributes === undefined
                  ? {}
                  : { NonKeyAttributes: [...gsi.Projection.NonKeyAttributes] }),
              },
              ...(table.billingMode === 'PROVISIONED' ? { ProvisionedThroughput: provisioned } : {}),
            })),
          }
        : {}),
      ...(table.streamViewType === undefined
        ? {}
        : { StreamSpecification: { StreamEnabled: true, StreamViewType: table.streamViewType } }),
    };
    let created = true;
    try {
      await dynamoDb.send(new CreateTableCommand(input));
    } catch (error) {
      if (errorName(error) !== 'ResourceInUseException')
        throw new DeployerError(`cannot create table ${table.name}`, { cause: error });
      created = false;
    }
    let streamArn: string | undefined;
    let streamView: string | undefined;
    await waitUntil(`table ${table.name}`, this.options.activeTimeoutMs ?? 30_000, async () => {
      const described = await dynamoDb.send(new DescribeTableCommand({ TableName: table.name }));
      streamArn = described.Table?.LatestStreamArn;
      streamView = described.Table?.StreamSpecification?.StreamEnabled
        ? described.Table.StreamSpecification.StreamViewType
        : undefined;
      return described.Table?.TableStatus === 'ACTIVE';
    });
    if (table.streamViewType !== undefined && streamView !== table.streamViewType)
      throw new DeployerError(
        `table ${table.name} exists with ${streamView === undefined ? 'no stream' : `a ${streamView} stream`}, the template gives it a ${table.streamViewType} stream: stop the local cloud (its data goes) and deploy again`,
      );
    if (table.ttlAttribute !== undefined && created) {
      try {
        await dynamoDb.send(
          new UpdateTimeToLiveCommand({
            TableName: table.name,
            TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
          }),
        );
      } catch (error) {
        warnings.push(
          `table ${table.name}: TTL on ${table.ttlAttribute} not set by the emulator (${errorName(error) || String(error)})`,
        );
      }
    }
    return table.streamViewType === undefined ? undefined : streamArn;
  }

  private async createBucket(name: string): Promise<void> {
    try {
      await this.clients.s3.send(new CreateBucketCommand({ Bucket: name }));
    } catch (error) {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(errorName(error))) {
        throw new DeployerError(`cannot create bucket ${name}`, { cause: error });
      }
    }
  }
}
