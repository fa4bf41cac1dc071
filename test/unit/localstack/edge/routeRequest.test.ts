import { routeRequest } from '../../../../localstack/edge/routeRequest';

const auth = (service: string): string =>
  `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;

describe('routeRequest', () => {
  it.each(['kinesis', 'dynamodb', 's3'])(
    'when the Authorization credential scope names %s, it routes there',
    (service) => {
      expect(routeRequest({ url: '/', headers: { authorization: auth(service) } })).toEqual({
        service,
        by: 'authorization',
      });
    },
  );

  it('when the credential scope and X-Amz-Target disagree, it trusts the credential scope', () => {
    const route = routeRequest({
      url: '/',
      headers: { authorization: auth('dynamodb'), 'x-amz-target': 'Kinesis_20131202.PutRecords' },
    });
    expect(route).toEqual({ service: 'dynamodb', by: 'authorization' });
  });

  it('when a presigned S3 URL carries X-Amz-Credential, it routes by its scope', () => {
    const url =
      '/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x';
    expect(routeRequest({ url, headers: {} })).toEqual({ service: 's3', by: 'presigned-query' });
  });

  it.each([
    ['Kinesis_20131202.GetRecords', 'kinesis'],
    ['DynamoDB_20120810.GetItem', 'dynamodb'],
    // DynamoDB Streams (signed with service name `dynamodb`) is served by DynamoDB Local too.
    ['DynamoDBStreams_20120810.GetRecords', 'dynamodb'],
  ])('when an unsigned request has X-Amz-Target %s, it routes to %s', (target, service) => {
    expect(routeRequest({ url: '/', headers: { 'x-amz-target': target } })).toEqual({
      service,
      by: 'target',
    });
  });

  it('when the credential scope names a service the local cloud does not run, it says which', () => {
    const route = routeRequest({ url: '/', headers: { authorization: auth('sqs') } });
    expect(route.service).toBeUndefined();
    expect(route).toMatchObject({ error: expect.stringContaining("'sqs'") });
  });

  it('when nothing identifies the service, it returns an error instead of guessing', () => {
    expect(routeRequest({ url: '/', headers: {} })).toEqual({
      error:
        'Cannot tell which service this request is for: no SigV4 credential scope and no X-Amz-Target header',
    });
  });

  it('when the credential is malformed, it does not route it', () => {
    expect(
      routeRequest({
        url: '/',
        headers: { authorization: 'AWS4-HMAC-SHA256 Credential=garbage, Signature=x' },
      }).service,
    ).toBeUndefined();
    expect(routeRequest({ url: '/?X-Amz-Credential=a%2Fb', headers: {} }).service).toBeUndefined();
  });

  it('when a header is repeated, it uses the first value', () => {
    expect(
      routeRequest({ url: '/', headers: { 'x-amz-target': ['DynamoDB_20120810.Query', 'Kinesis_x'] } })
        .service,
    ).toBe('dynamodb');
  });

  it('when an unknown X-Amz-Target is sent, it names it in the error', () => {
    expect(routeRequest({ url: '/', headers: { 'x-amz-target': 'AmazonSQS.SendMessage' } })).toEqual({
      error: "The local cloud does not emulate the X-Amz-Target 'AmazonSQS.SendMessage'",
    });
  });
});
