import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEdgeProxy, type RunningEdge } from '../../../../localstack/edge/EdgeProxy';

/** A fake emulator that answers with its own name, the request it saw and the streamed body length. */
interface FakeUpstream {
  readonly url: string;
  readonly server: Server;
}

async function fakeUpstream(name: string): Promise<FakeUpstream> {
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify({ name, method: req.method, url: req.url, host: req.headers.host, bytes }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function send(edge: RunningEdge, path: string, headers: Record<string, string>, body = ''): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${edge.endpoint}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const auth = (service: string): string =>
  `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=abc`;

describe('EdgeProxy', () => {
  let upstreams: FakeUpstream[];
  let edge: RunningEdge;

  beforeAll(async () => {
    upstreams = await Promise.all(['kinesis', 'dynamodb', 's3'].map(fakeUpstream));
    const [kinesis, dynamodb, s3] = upstreams as [FakeUpstream, FakeUpstream, FakeUpstream];
    edge = await startEdgeProxy({
      port: 0,
      upstreams: { kinesis: kinesis.url, dynamodb: dynamodb.url, s3: s3.url },
    });
  });

  afterAll(async () => {
    await edge.stop();
    await Promise.all(upstreams.map((u) => new Promise((resolve) => u.server.close(resolve))));
  });

  it('when started on port 0, it listens on a free loopback port', () => {
    expect(edge.port).toBeGreaterThan(0);
    expect(edge.endpoint).toBe(`http://127.0.0.1:${edge.port}`);
  });

  it.each(['kinesis', 'dynamodb', 's3'])(
    'when a request is signed for %s, it reaches that emulator unchanged',
    async (service) => {
      const reply = await send(
        edge,
        '/bucket/key?list-type=2',
        { authorization: auth(service), host: 'example.test:4566' },
        'x'.repeat(1000),
      );
      expect(reply.status).toBe(200);
      expect(reply.headers['x-upstream']).toBe(service);
      expect(JSON.parse(reply.body)).toEqual({
        name: service,
        method: 'POST',
        url: '/bucket/key?list-type=2',
        host: 'example.test:4566',
        bytes: 1000,
      });
    },
  );

  it('when the body is large, it is streamed through intact', async () => {
    const body = 'y'.repeat(5 * 1024 * 1024);
    const reply = await send(edge, '/', { authorization: auth('s3') }, body);
    expect(JSON.parse(reply.body).bytes).toBe(body.length);
  });

  it('when a JSON-protocol request names an unknown service, it answers 400 with a JSON error', async () => {
    const reply = await send(edge, '/', {
      authorization: auth('sqs'),
      'x-amz-target': 'AmazonSQS.SendMessage',
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      __type: 'UnknownServiceException',
      message: "The local cloud does not emulate service 'sqs' (from the Authorization credential scope)",
    });
  });

  it('when a REST request cannot be routed, it answers 400 with an XML error', async () => {
    const reply = await send(edge, '/bucket', {});
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/xml');
    expect(reply.body).toContain('<Code>UnknownServiceException</Code>');
  });

  it.each(['/_localstack/health', '/_shardflow/health'])(
    'when %s is requested, the edge answers with the services it routes',
    async (path) => {
      const reply = await fetch(`${edge.endpoint}${path}`);
      expect(reply.status).toBe(200);
      expect(await reply.json()).toEqual({
        services: { kinesis: 'running', dynamodb: 'running', s3: 'running' },
      });
    },
  );

  it('when the emulator is down, it answers 502 instead of hanging', async () => {
    const dead = await fakeUpstream('dead');
    await new Promise((resolve) => dead.server.close(resolve));
    const broken = await startEdgeProxy({
      port: 0,
      upstreams: { kinesis: dead.url, dynamodb: dead.url, s3: dead.url },
    });
    try {
      const reply = await send(broken, '/', {
        authorization: auth('kinesis'),
        'x-amz-target': 'Kinesis_20131202.ListStreams',
      });
      expect(reply.status).toBe(502);
      expect(JSON.parse(reply.body).__type).toBe('ServiceUnavailable');
    } finally {
      await broken.stop();
    }
  });
});
