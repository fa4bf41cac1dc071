import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import {
  createClients,
  dynamoDbClient,
  endpointOverride,
  kinesisClient,
  resetClients,
  s3Client,
  sqsClient,
  athenaClient,
  SDK_CALL_LOG_STEP,
} from '../../../functions/adapters/aws';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The names of a client's middleware steps, without the step suffix (`name - step`). */
const stepsOf = (client: { middlewareStack: { identify(): string[] } }): string[] =>
  client.middlewareStack.identify().map((entry) => entry.split(' - ')[0]!);

async function endpointOf(client: {
  config: { endpoint?: () => Promise<{ hostname: string; port?: number; protocol: string }> };
}): Promise<string | undefined> {
  const endpoint = await client.config.endpoint?.();
  return endpoint === undefined ? undefined : `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`;
}

describe('endpointOverride', () => {
  it('when only AWS_ENDPOINT_URL is set, it applies to every service', () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' };
    expect(
      ['KINESIS', 'DYNAMODB', 'S3', 'SQS', 'ATHENA'].map((s) => endpointOverride(s as 'S3', env)),
    ).toEqual(Array(5).fill('http://127.0.0.1:4566'));
  });

  it('when a per-service variable is set, it wins over AWS_ENDPOINT_URL for that service only', () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' };
    expect(endpointOverride('S3', env)).toBe('http://127.0.0.1:9000');
    expect(endpointOverride('KINESIS', env)).toBe('http://127.0.0.1:4566');
  });

  it('when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, it ignores every override like the SDK does', () => {
    expect(
      endpointOverride('S3', { AWS_ENDPOINT_URL: 'http://x:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'TRUE' }),
    ).toBeUndefined();
  });

  it('when the variables are empty, it has no override', () => {
    expect(
      endpointOverride('DYNAMODB', { AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_DYNAMODB: '' }),
    ).toBeUndefined();
  });
});

describe('createClients', () => {
  it('when an endpoint override is set, every client uses it over one shared keep-alive HTTP/1.1 handler', async () => {
    const clients = createClients({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_REGION: 'eu-west-1' });
    const all = [clients.kinesis, clients.dynamoDb, clients.s3, clients.sqs, clients.athena];
    for (const client of all) {
      expect(await endpointOf(client)).toBe('http://127.0.0.1:4566');
      expect(await client.config.region()).toBe('eu-west-1');
      expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
      expect(client.config.requestHandler).toBe(clients.kinesis.config.requestHandler);
    }
  });

  it('when an endpoint override is set, S3 uses path-style addressing and checksums only where required', async () => {
    const { s3 } = createClients({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_REGION: 'us-east-1' });
    expect(s3.config.forcePathStyle).toBe(true);
    expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await s3.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
  });

  it('when no endpoint override is set, it keeps the SDK defaults (HTTP/2 Kinesis, virtual-hosted S3, default checksums)', async () => {
    const { kinesis, s3 } = createClients({ AWS_REGION: 'us-east-1' });
    expect(kinesis.config.requestHandler).toBeInstanceOf(NodeHttp2Handler);
    expect(kinesis.config.isCustomEndpoint).toBe(false);
    expect(s3.config.forcePathStyle).toBe(false);
    expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
  });

  it('when created, every client retries in adaptive mode', async () => {
    const clients = createClients({ AWS_REGION: 'us-east-1' });
    for (const client of Object.values(clients)) {
      const strategy = (await client.config.retryStrategy()) as { mode?: string };
      expect(strategy.mode).toBe('adaptive');
    }
  });
});

describe('the SDK call-log step', () => {
  it('when the SDK builds a client, it has the step this module removes (so removing it is not a no-op)', () => {
    expect(stepsOf(new DynamoDBClient({ region: 'us-east-1' }))).toContain(SDK_CALL_LOG_STEP);
  });

  it('when the factory builds a client without a logger, the step is gone from every one', () => {
    const clients = createClients({ AWS_REGION: 'us-east-1' });
    for (const client of Object.values(clients)) expect(stepsOf(client)).not.toContain(SDK_CALL_LOG_STEP);
    for (const client of [
      kinesisClient({ region: 'us-east-1' }),
      dynamoDbClient({ region: 'us-east-1' }),
      s3Client({ region: 'us-east-1' }),
      sqsClient({ region: 'us-east-1' }),
      athenaClient({ region: 'us-east-1' }),
    ])
      expect(stepsOf(client)).not.toContain(SDK_CALL_LOG_STEP);
  });

  it('when the caller configures a logger, the step stays', () => {
    const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    expect(stepsOf(dynamoDbClient({ region: 'us-east-1', logger }))).toContain(SDK_CALL_LOG_STEP);
    expect(stepsOf(s3Client({ region: 'us-east-1', logger }))).toContain(SDK_CALL_LOG_STEP);
  });
});

describe('singleton accessors', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetClients();
  });

  it('when called twice, it returns the same client, and after resetClients a new one from the current environment', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1111';
    process.env.AWS_REGION = 'us-east-1';
    resetClients();
    const first = kinesisClient();
    expect(kinesisClient()).toBe(first);
    expect(await endpointOf(first)).toBe('http://127.0.0.1:1111');
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:2222';
    resetClients();
    expect(await endpointOf(kinesisClient())).toBe('http://127.0.0.1:2222');
    expect(await endpointOf(dynamoDbClient())).toBe('http://127.0.0.1:2222');
    expect(await endpointOf(s3Client())).toBe('http://127.0.0.1:2222');
    expect(await endpointOf(sqsClient())).toBe('http://127.0.0.1:2222');
    expect(await endpointOf(athenaClient())).toBe('http://127.0.0.1:2222');
  });

  it('when overrides include an endpoint, the new client gets the plain-http transport settings for it', async () => {
    delete process.env.AWS_ENDPOINT_URL;
    process.env.AWS_REGION = 'us-east-1';
    const kinesis = kinesisClient({ endpoint: 'http://127.0.0.1:3333' });
    const s3 = s3Client({ endpoint: 'http://127.0.0.1:3333' });
    expect(kinesis).not.toBe(kinesisClient());
    expect(kinesis.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(await endpointOf(kinesis)).toBe('http://127.0.0.1:3333');
    expect(s3.config.forcePathStyle).toBe(true);
  });
});
