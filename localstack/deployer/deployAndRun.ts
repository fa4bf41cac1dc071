import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  dynamoDbClient,
  dynamoDbStreamsClient,
  kinesisClient,
  s3Client,
  sqsClient,
} from '../../functions/adapters/aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalService } from '../emulators/constants';
import { endpointEnvironment } from '../emulators/endpointEnvironment';
import {
  EventSourceMappingRuntime,
  FileCheckpointStore,
  FileFailureDestination,
  RUNTIME_DEFAULTS,
  S3FailureDestination,
  SdkDynamoDBStreamReader,
  SdkKinesisReader,
  SqsFailureDestination,
  WorkerInvoker,
  type CheckpointStore,
  type EventSourceMappingRuntimeOptions,
  type FailureDestination,
  type InvocationHooks,
} from '../eventSourceMapping';
import { Deployer } from './Deployer';
import { readStackArtifact } from './cloudAssembly';
import { runCustomResources } from './customResources';
import { planDeployment, planTables } from './planDeployment';
import { ScheduleRunner } from './ScheduleRunner';
import type { Deployment } from './types';

/** The part of a running local cloud the deployer needs (`startLocalCloud()` returns it). */
export interface CloudEndpoint {
  /** Edge URL, e.g. `http://127.0.0.1:4566` (LocalStack's edge works too). */
  readonly endpoint: string;
  /**
   * Each emulator's own URL (`startLocalCloud()` gives them): the functions then reach each service
   * directly (`AWS_ENDPOINT_URL_<SERVICE>`) instead of through the edge. @default through the edge
   */
  readonly endpoints?: Readonly<Record<LocalService, string>>;
  /**
   * The Kinesis engine behind it: kinesalite predates `StreamARN` parameters, so streams are then read by name.
   * @default 'kinesis-mock' (LocalStack's engine, which takes ARNs)
   */
  readonly kinesisEmulator?: string;
}

export interface DeployAndRunOptions {
  readonly cloud: CloudEndpoint;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** Template parameter values. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** @default `.shardflow/checkpoints.json`; pass a store to keep checkpoints elsewhere. */
  readonly checkpoints?: CheckpointStore | string;
  /** Directory for queues without an SQS endpoint. @default `.shardflow/queues` */
  readonly localQueueDir?: string;
  /** Create queues through SQS (LocalStack); off for the embedded cloud, which has no SQS. @default false */
  readonly useSqs?: boolean;
  readonly hooks?: InvocationHooks;
  /** Fire `rate(...)` schedules; a number divides their period. @default false */
  readonly fireSchedules?: boolean | number;
  /** Passed through to the runtime (poll interval, invoker, logging…). */
  readonly runtime?: Partial<Omit<EventSourceMappingRuntimeOptions, 'mappings' | 'functions'>>;
  readonly log?: (message: string) => void;
  /**
   * Pass the output of the functions this deployer invokes itself (custom resources, schedules) through to
   * this process; a CLI whose stdout is its result keeps it off. @default true
   */
  readonly functionOutput?: boolean;
}

export interface RunningDeployment {
  readonly deployment: Deployment;
  readonly runtime: EventSourceMappingRuntime;
  readonly schedules: ScheduleRunner;
  /** Stops schedules, the mappings and the warm function instances (not the cloud). */
  stop(): Promise<void>;
}

/**
 * Where a deployed mapping's on-failure records go, by destination ARN: an S3 bucket of the deployment (as
 * Lambda writes them), an SQS queue (to the local cloud's SQS, or a JSON Lines file under `queueDir` for a
 * queue the embedded cloud has no emulator for); undefined for anything else.
 */
export function failureDestinations(
  deployment: Pick<Deployment, 'queues' | 'localQueues'>,
  clients: { readonly s3: S3Client; readonly sqs?: SQSClient; readonly queueDir: string },
): (arn: string) => FailureDestination | undefined {
  return (arn) => {
    if (arn.startsWith('arn:aws:s3:::'))
      return new S3FailureDestination(clients.s3, arn.slice('arn:aws:s3:::'.length));
    const queue = deployment.queues.find((q) => q.arn === arn);
    if (queue === undefined) return undefined;
    if (clients.sqs === undefined || deployment.localQueues.includes(queue.name))
      return new FileFailureDestination(clients.queueDir, queue.name);
    return new SqsFailureDestination(clients.sqs, queue.url);
  };
}

/**
 * Deploys a synthesized stack onto a local cloud and starts its event source mappings.
 *
 * @example
 * const cloud = await startLocalCloud({ edgePort: 0 });
 * const app = await deployAndRun('cdk.out/Shardflow.template.json', { cloud });
 * // put records…
 * await app.runtime.idle();
 * await app.stop();
 * await cloud.stop();
 */
export async function deployAndRun(
  templatePath: string,
  options: DeployAndRunOptions,
): Promise<RunningDeployment> {
  const region = options.region ?? LOCAL_REGION;
  const log = options.log ?? ((message: string) => console.warn(`[deploy] ${message}`));
  const clientConfig = { endpoint: options.cloud.endpoint, region, credentials: LOCAL_CREDENTIALS };
  const sqs: SQSClient | undefined = options.useSqs === true ? sqsClient(clientConfig) : undefined;
  const artifact = readStackArtifact(templatePath);
  const env = {
    stackName: artifact.stackName,
    region,
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
    sqsBaseUrl: options.cloud.endpoint,
  };
  const s3 = s3Client(clientConfig);
  const deployer = new Deployer({
    kinesis: kinesisClient(clientConfig),
    dynamoDb: dynamoDbClient(clientConfig),
    s3,
    ...(sqs === undefined ? {} : { sqs }),
  });
  // Tables first: a table's stream ARN, which mappings and environments name, carries its creation time.
  const tableWarnings: string[] = [];
  const tableStreamArns = await deployer.createTables(planTables(artifact.template, env), tableWarnings);
  const plan = planDeployment(artifact.template, { ...env, tableStreamArns }, artifact.locateAsset);
  const deployment = await deployer.deploy(plan);
  for (const skipped of deployment.unsupported)
    log(`unsupported: ${skipped.logicalId} (${skipped.type})${skipped.reason ? `: ${skipped.reason}` : ''}`);
  for (const warning of [...tableWarnings, ...deployment.warnings]) log(warning);

  const failureDestination = failureDestinations(deployment, {
    s3,
    ...(sqs === undefined ? {} : { sqs }),
    queueDir: options.localQueueDir ?? join('.shardflow', 'queues'),
  });
  const invoker = new WorkerInvoker({
    inheritOutput: options.functionOutput ?? true,
    environment: {
      ...endpointEnvironment(options.cloud),
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    },
  });
  // Before any mapping or schedule runs the new functions, as CloudFormation updates the functions only after
  // the custom resources they depend on (the upgrade check) succeeded.
  try {
    await runCustomResources(deployment, invoker, log);
  } catch (error) {
    await invoker.close();
    throw error;
  }
  const checkpoints =
    typeof options.checkpoints === 'object'
      ? options.checkpoints
      : new FileCheckpointStore(options.checkpoints ?? RUNTIME_DEFAULTS.CHECKPOINT_FILE);
  const runtime = new EventSourceMappingRuntime({
    mappings: deployment.mappings,
    functions: deployment.functions,
    kinesis: new SdkKinesisReader(
      kinesisClient(clientConfig),
      options.cloud.kinesisEmulator === 'kinesalite' ? { addressStreamsBy: 'name' } : {},
    ),
    dynamoDbStreams: new SdkDynamoDBStreamReader(dynamoDbStreamsClient(clientConfig)),
    invoker,
    checkpoints,
    failureDestination,
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    log,
    ...options.runtime,
  });
  await runtime.start();
  const schedules = new ScheduleRunner(deployment.schedules, deployment.functions, invoker, {
    region,
    accountId: deployment.accountId,
    log,
  });
  if (options.fireSchedules !== undefined && options.fireSchedules !== false)
    schedules.start(options.fireSchedules === true ? 1 : options.fireSchedules);
  return {
    deployment,
    runtime,
    schedules,
    stop: async () => {
      schedules.stop();
      await runtime.stop();
      await invoker.close();
    },
  };
}
