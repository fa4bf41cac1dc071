import { createClients, endpointOverride } from '../../../../functions/adapters/aws';
import { endpointEnvironment } from '../../../../localstack/emulators/endpointEnvironment';

const cloud = {
  endpoint: 'http://127.0.0.1:4566',
  endpoints: {
    kinesis: 'http://127.0.0.1:4001',
    dynamodb: 'http://127.0.0.1:4002',
    s3: 'http://127.0.0.1:4003',
  },
};

describe('endpointEnvironment', () => {
  it('when the cloud names its emulators, each service the functions use goes to its emulator, anything else to the edge', () => {
    const env = endpointEnvironment(cloud);
    expect(endpointOverride('KINESIS', env)).toBe('http://127.0.0.1:4001');
    expect(endpointOverride('DYNAMODB', env)).toBe('http://127.0.0.1:4002');
    expect(endpointOverride('DYNAMODB_STREAMS', env)).toBe('http://127.0.0.1:4002');
    expect(endpointOverride('S3', env)).toBe('http://127.0.0.1:4003');
    expect(endpointOverride('SQS', env)).toBe('http://127.0.0.1:4566');
    expect(endpointOverride('ATHENA', env)).toBe('http://127.0.0.1:4566');
  });

  it('when the cloud names only its edge (LocalStack), every service goes to the edge', () => {
    expect(endpointEnvironment({ endpoint: 'http://127.0.0.1:4566' })).toEqual({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    });
  });

  it('gives the factory clients on each emulator, with the transport settings of an endpoint override', async () => {
    const clients = createClients({ ...endpointEnvironment(cloud), AWS_REGION: 'us-east-1' });
    const s3 = await clients.s3.config.endpoint?.();
    expect(`${s3?.protocol}//${s3?.hostname}:${s3?.port}`).toBe('http://127.0.0.1:4003');
    expect(clients.s3.config.forcePathStyle).toBe(true);
    const kinesis = await clients.kinesis.config.endpoint?.();
    expect(kinesis?.port).toBe(4001);
  });
});
