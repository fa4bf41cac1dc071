import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK_HOST, type LocalService } from '../emulators/constants';
import { routeRequest } from './routeRequest';

/** Options of the edge endpoint. */
export interface EdgeProxyOptions {
  /** Port to listen on; 0 picks a free port. */
  readonly port: number;
  /** Base URL (`http://127.0.0.1:<port>`) of each emulator. */
  readonly upstreams: Readonly<Record<LocalService, string>>;
}

/** A running edge endpoint. */
export interface RunningEdge {
  /** `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops listening, drops open connections and upstream sockets; idempotent. */
  stop(): Promise<void>;
}

// Connection-level headers are per hop (RFC 9110 §7.6.1) and must not be forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

/** Unsigned GET paths answered by the edge itself. */
const HEALTH_PATHS: ReadonlySet<string> = new Set(['/_localstack/health', '/_shardflow/health']);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const result: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) result[name] = value;
  }
  return result;
}

function looksLikeJsonProtocol(request: IncomingMessage): boolean {
  const contentType = request.headers['content-type'] ?? '';
  return request.headers['x-amz-target'] !== undefined || contentType.includes('json');
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendError(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (looksLikeJsonProtocol(request)) {
    const body = JSON.stringify({ __type: code, message });
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': code });
    response.end(body);
  } else {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
    response.writeHead(status, { 'content-type': 'application/xml' });
    response.end(body);
  }
}

/**
 * Starts the single loopback endpoint that forwards each request to the emulator its SigV4 credential
 * scope names. Bodies are streamed both ways; upstream sockets are kept alive.
 *
 * @example
 * const edge = await startEdgeProxy({ port: 4566, upstreams: { kinesis, dynamodb, s3 } });
 */
export async function startEdgeProxy(options: EdgeProxyOptions): Promise<RunningEdge> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const upstreams = new Map<LocalService, URL>(
    Object.entries(options.upstreams).map(([service, url]) => [service as LocalService, new URL(url)]),
  );
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && HEALTH_PATHS.has(request.url ?? '')) {
      // LocalStack's health path too, so scripts that wait for LocalStack also wait for this edge.
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ services: Object.fromEntries([...upstreams.keys()].map((s) => [s, 'running'])) }),
      );
      return;
    }
    const route = routeRequest(request);
    if (route.service === undefined) {
      sendError(request, response, 400, 'UnknownServiceException', route.error);
      request.resume();
      return;
    }
    const upstream = upstreams.get(route.service);
    if (upstream === undefined) {
      sendError(
        request,
        response,
        400,
        'UnknownServiceException',
        `No emulator is configured for ${route.service}`,
      );
      request.resume();
      return;
    }
    const outgoing = httpRequest(
      {
        agent,
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        // The Host header is part of the signature: it is forwarded unchanged.
        headers: forwardable(request.headers),
      },
      (incoming) => {
        response.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, forwardable(incoming.headers));
        incoming.pipe(response);
        incoming.once('error', () => response.destroy());
      },
    );
    outgoing.once('error', (error) =>
      sendError(
        request,
        response,
        502,
        'ServiceUnavailable',
        `${route.service} emulator failed: ${error.message}`,
      ),
    );
    // A client that goes away mid-request or mid-response releases the upstream socket too.
    response.once('close', () => {
      if (!response.writableFinished) outgoing.destroy();
    });
    request.pipe(outgoing);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, LOOPBACK_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      })),
  };
}
