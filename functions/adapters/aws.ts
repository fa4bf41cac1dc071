/**
 * The one place AWS clients are created (STYLE.md principle 7). Every adapter, handler and tool takes
 * its client from here (or has one injected), so nothing else knows whether it talks to AWS, to
 * LocalStack or to the embedded emulators: the only switch is "an endpoint override is set".
 *
 * Endpoint precedence follows the SDK's own "configured endpoints" rules, which the SDK v3 clients
 * also apply by themselves: `AWS_ENDPOINT_URL_<SERVICE>` beats `AWS_ENDPOINT_URL`, and
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` disables both. We resolve it here explicitly as well,
 * because an override also changes transport settings the SDK does not infer: plain-http endpoints
 * need an HTTP/1.1 handler (Kinesis defaults to HTTP/2, which emulators do not speak) and S3 emulators
 * need path-style addressing and checksums only where the API requires them.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AthenaClient, AthenaClientConfig } from '@aws-sdk/client-athena';
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient, DynamoDBStreamsClientConfig } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type { NodeHttpHandler } from '@smithy/node-http-handler';

/* eslint-disable @typescript-eslint/no-require-imports -- each SDK client module is loaded on first use:
   loading one costs 80-120 ms of a Lambda cold start, and the operator needs three of the six. */
const sdk = {
  athena: () => require('@aws-sdk/client-athena') as typeof import('@aws-sdk/client-athena'),
  dynamoDb: () => require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb'),
  dynamoDbStreams: () =>
    require('@aws-sdk/client-dynamodb-streams') as typeof import('@aws-sdk/client-dynamodb-streams'),
  kinesis: () => require('@aws-sdk/client-kinesis') as typeof import('@aws-sdk/client-kinesis'),
  lambda: () => require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda'),
  s3: () => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'),
  sqs: () => require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs'),
  http: () => require('@smithy/node-http-handler') as typeof import('@smithy/node-http-handler'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** The services shardflow talks to, keyed by the suffix of their `AWS_ENDPOINT_URL_<SERVICE>` variable. */
export const AWS_SERVICES = {
  KINESIS: 'KINESIS',
  DYNAMODB: 'DYNAMODB',
  DYNAMODB_STREAMS: 'DYNAMODB_STREAMS',
  S3: 'S3',
  SQS: 'SQS',
  ATHENA: 'ATHENA',
  LAMBDA: 'LAMBDA',
} as const;
export type AwsService = (typeof AWS_SERVICES)[keyof typeof AWS_SERVICES];

/** An environment to read settings from (`process.env` by default; a plain object in tests). */
export type ClientEnvironment = Readonly<Record<string, string | undefined>>;

/** One client per service, all configured from the same environment. */
export interface AwsClients {
  readonly kinesis: KinesisClient;
  readonly dynamoDb: DynamoDBClient;
  /** A table source's stream (change data capture). */
  readonly dynamoDbStreams: DynamoDBStreamsClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly athena: AthenaClient;
  /** The CLI's only: `deploy --drain` pauses event source mappings and invokes tick functions. */
  readonly lambda: LambdaClient;
}

/** Keep-alive sockets shared by all clients of one environment: emulators and the edge pay per connection. */
const MAX_SOCKETS = 64;

/**
 * The endpoint override for a service, or `undefined` when the SDK should resolve the AWS endpoint.
 *
 * @example
 * endpointOverride('KINESIS', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }); // 'http://127.0.0.1:4566'
 */
export function endpointOverride(
  service: AwsService,
  env: ClientEnvironment = process.env,
): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  const specific = env[`AWS_ENDPOINT_URL_${service}`];
  if (specific !== undefined && specific !== '') return specific;
  const global = env.AWS_ENDPOINT_URL;
  return global !== undefined && global !== '' ? global : undefined;
}

interface CommonConfig {
  readonly retryMode: 'adaptive';
  readonly region?: string;
  readonly endpoint?: string;
  readonly requestHandler?: NodeHttpHandler;
}

function commonConfig(
  service: AwsService,
  env: ClientEnvironment,
  handler: () => NodeHttpHandler,
): CommonConfig {
  const endpoint = endpointOverride(service, env);
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return {
    retryMode: 'adaptive',
    ...(region !== undefined && region !== '' ? { region } : {}),
    ...(endpoint !== undefined ? { endpoint, requestHandler: handler() } : {}),
  };
}

/** S3 emulators understand neither virtual-hosted buckets on 127.0.0.1 nor the newer default checksums. */
function s3OverrideConfig(common: CommonConfig): Partial<S3ClientConfig> {
  if (common.endpoint === undefined) return {};
  return {
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * Creates a fresh set of clients from an environment. Tests use it with an explicit object; code in
 * Lambda and the CLI uses the lazily created singletons below.
 *
 * @example
 * const { kinesis } = createClients({ AWS_ENDPOINT_URL: cloud.endpoint, AWS_REGION: 'us-east-1' });
 */
export function createClients(env: ClientEnvironment = process.env): AwsClients {
  let shared: NodeHttpHandler | undefined;
  // One handler (and one pair of keep-alive agents) for all clients of this environment.
  const handler = (): NodeHttpHandler => (shared ??= httpHandler());
  const made: Partial<Record<keyof AwsClients, unknown>> = {};
  // Each client (and its SDK module) is made on first access.
  const lazy = <K extends keyof AwsClients>(key: K, make: () => AwsClients[K]): AwsClients[K] =>
    (made[key] ??= withoutCallLog(make())) as AwsClients[K];
  return {
    get kinesis() {
      return lazy('kinesis', () => new (sdk.kinesis().KinesisClient)(commonConfig('KINESIS', env, handler)));
    },
    get dynamoDb() {
      return lazy(
        'dynamoDb',
        () => new (sdk.dynamoDb().DynamoDBClient)(commonConfig('DYNAMODB', env, handler)),
      );
    },
    get dynamoDbStreams() {
      return lazy(
        'dynamoDbStreams',
        () =>
          new (sdk.dynamoDbStreams().DynamoDBStreamsClient)(commonConfig('DYNAMODB_STREAMS', env, handler)),
      );
    },
    get s3() {
      return lazy('s3', () => {
        const s3Common = commonConfig('S3', env, handler);
        return new (sdk.s3().S3Client)({ ...s3Common, ...s3OverrideConfig(s3Common) });
      });
    },
    get sqs() {
      return lazy('sqs', () => new (sdk.sqs().SQSClient)(commonConfig('SQS', env, handler)));
    },
    get athena() {
      return lazy('athena', () => new (sdk.athena().AthenaClient)(commonConfig('ATHENA', env, handler)));
    },
    get lambda() {
      return lazy('lambda', () => new (sdk.lambda().LambdaClient)(commonConfig('LAMBDA', env, handler)));
    },
  };
}

let singletons: AwsClients | undefined;

function defaults(): AwsClients {
  return (singletons ??= createClients(process.env));
}

/**
 * Forgets the singletons so the next call reads `process.env` again (tests that change the endpoint).
 * Does not destroy clients already handed out.
 */
export function resetClients(): void {
  singletons = undefined;
}

/**
 * The environment a client with `overrides` is configured from: a string `endpoint` in the overrides
 * counts as that service's endpoint override, so it gets the same transport settings.
 */
function overriddenEnv(service: AwsService, overrides: { readonly endpoint?: unknown }): ClientEnvironment {
  return typeof overrides.endpoint === 'string'
    ? { ...process.env, [`AWS_ENDPOINT_URL_${service}`]: overrides.endpoint }
    : process.env;
}

/**
 * The shared Kinesis client, or a new one with `overrides` applied over the environment's settings.
 *
 * @example
 * await kinesisClient().send(new ListStreamsCommand({}));
 */
export function kinesisClient(overrides?: KinesisClientConfig): KinesisClient {
  if (overrides === undefined) return defaults().kinesis;
  return withoutCallLog(
    new (sdk.kinesis().KinesisClient)({
      ...commonConfig('KINESIS', overriddenEnv('KINESIS', overrides), httpHandler),
      ...overrides,
    }),
    overrides,
  );
}

/** The shared DynamoDB client, or a new one with `overrides` applied. */
export function dynamoDbClient(overrides?: DynamoDBClientConfig): DynamoDBClient {
  if (overrides === undefined) return defaults().dynamoDb;
  return withoutCallLog(
    new (sdk.dynamoDb().DynamoDBClient)({
      ...commonConfig('DYNAMODB', overriddenEnv('DYNAMODB', overrides), httpHandler),
      ...overrides,
    }),
    overrides,
  );
}

/** The shared DynamoDB Streams client, or a new one with `overrides` applied. */
export function dynamoDbStreamsClient(overrides?: DynamoDBStreamsClientConfig): DynamoDBStreamsClient {
  if (overrides === undefined) return defaults().dynamoDbStreams;
  return withoutCallLog(
    new (sdk.dynamoDbStreams().DynamoDBStreamsClient)({
      ...commonConfig('DYNAMODB_STREAMS', overriddenEnv('DYNAMODB_STREAMS', overrides), httpHandler),
      ...overrides,
    }),
    overrides,
  );
}

/** The shared S3 client, or a new one with `overrides` applied. */
export function s3Client(overrides?: S3ClientConfig): S3Client {
  if (overrides === undefined) return defaults().s3;
  const common = commonConfig('S3', overriddenEnv('S3', overrides), httpHandler);
  return withoutCallLog(
    new (sdk.s3().S3Client)({ ...common, ...s3OverrideConfig(common), ...overrides }),
    overrides,
  );
}

/** The shared SQS client, or a new one with `overrides` applied. */
export function sqsClient(overrides?: SQSClientConfig): SQSClient {
  if (overrides === undefined) return defaults().sqs;
  return withoutCallLog(
    new (sdk.sqs().SQSClient)({
      ...commonConfig('SQS', overriddenEnv('SQS', overrides), httpHandler),
      ...overrides,
    }),
    overrides,
  );
}

/** The shared Athena client, or a new one with `overrides` applied. */
export function athenaClient(overrides?: AthenaClientConfig): AthenaClient {
  if (overrides === undefined) return defaults().athena;
  return withoutCallLog(
    new (sdk.athena().AthenaClient)({
      ...commonConfig('ATHENA', overriddenEnv('ATHENA', overrides), httpHandler),
      ...overrides,
    }),
    overrides,
  );
}

/** What {@link withoutCallLog} needs of a client. */
interface SdkClient {
  readonly middlewareStack: { remove(name: string): boolean };
}

/**
 * `client` without the SDK's per-call log step, unless the caller configured a `logger`. That step
 * (`loggerMiddleware`, @aws-sdk/core) builds the sensitive-data-filtered copies of every call's input
 * and output before it calls the logger, even when the logger is the default no-op one: a walk over
 * every record of a 2,000-record GetRecords answer and every item of a TransactWriteItems, ~1.3 µs per
 * record of the local stack's main thread in the e2e bench profile. shardflow configures no SDK logger
 * (its own logs are Powertools'), so nothing is ever logged there.
 */
function withoutCallLog<C extends SdkClient>(client: C, config?: { readonly logger?: unknown }): C {
  if (config?.logger === undefined) client.middlewareStack.remove(SDK_CALL_LOG_STEP);
  return client;
}

/** The name the SDK gives its per-call log step (`@aws-sdk/core`'s `loggerMiddlewareOptions`). */
export const SDK_CALL_LOG_STEP = 'loggerMiddleware';

function httpHandler(): NodeHttpHandler {
  return new (sdk.http().NodeHttpHandler)({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
  });
}
