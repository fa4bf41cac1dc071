/**
 * The console's HTTP server (`node:http`, no framework), on 127.0.0.1 only: the page and its script and
 * styles (static files shipped in the package), uPlot from node_modules, and `GET /api/state`, the latest
 * view as JSON. Anything else is refused: 405 for another method, 404 for another path, 403 for a Host
 * header that is not this server (a web page elsewhere cannot reach it through DNS rebinding). Every
 * answer carries a Content-Security-Policy without inline scripts and `X-Content-Type-Options: nosniff`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { ConsoleError, ConsolePortInUseError } from './errors';

/** The address the console binds: loopback only. */
export const CONSOLE_HOST = '127.0.0.1';

/** Headers of every answer. The page's script and styles are files: nothing inline runs. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** A file the server answers with. */
interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** The page's own files: `static/` beside this module, in the sources and in `dist/` alike. */
export function staticDirectory(): string {
  return join(__dirname, 'static');
}

/** uPlot's browser build and styles, from the installed package. */
export function uplotDirectory(): string {
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}

function readAsset(path: string, type: string): Asset {
  if (!existsSync(path))
    throw new ConsoleError(
      `Console file missing: ${path} (reinstall shardflow, or run "npm run build" in its repository)`,
    );
  return { type, body: readFileSync(path) };
}

/** Every path the server answers, read once at start. */
export function consoleAssets(): ReadonlyMap<string, Asset> {
  const own = staticDirectory();
  const uplot = uplotDirectory();
  return new Map([
    ['/', readAsset(join(own, 'console.html'), 'text/html; charset=utf-8')],
    ...['console.js', 'dom.js', 'graph.js', 'plots.js'].map((name): [string, Asset] => [
      `/${name}`,
      readAsset(join(own, name), 'text/javascript; charset=utf-8'),
    ]),
    ['/console.css', readAsset(join(own, 'console.css'), 'text/css; charset=utf-8')],
    [
      '/vendor/uPlot.iife.min.js',
      readAsset(join(uplot, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'),
    ],
    ['/vendor/uPlot.min.css', readAsset(join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8')],
  ]);
}

/** The JSON endpoint the page polls. */
export const STATE_PATH = '/api/state';

/** Options of {@link startConsoleServer}. */
export interface ConsoleServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** The view to serve as JSON (called per request: it must be cheap, never a read of the cloud). */
  readonly state: () => unknown;
}

/** A listening console. */
export interface RunningConsoleServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(body);
}

/** Answers one request. */
function handler(assets: ReadonlyMap<string, Asset>, options: ConsoleServerOptions, port: () => number) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const allowedHosts = [`${CONSOLE_HOST}:${port()}`, `localhost:${port()}`];
    if (!allowedHosts.includes(req.headers.host ?? '')) {
      send(res, 403, 'text/plain; charset=utf-8', 'Forbidden host\n');
      return;
    }
    let path: string;
    try {
      path = new URL(req.url ?? '/', `http://${CONSOLE_HOST}`).pathname;
    } catch {
      // A target URL cannot parse (a page the user opens can send `GET //[`): answered, never thrown
      // out of the handler, which would end the process.
      send(res, 400, 'text/plain; charset=utf-8', 'Bad request\n');
      return;
    }
    const known = path === STATE_PATH || assets.has(path);
    if (!known) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { Allow: 'GET' });
      return;
    }
    if (path === STATE_PATH) {
      let state: string;
      try {
        state = JSON.stringify(options.state());
      } catch (error) {
        send(res, 500, 'text/plain; charset=utf-8', `Console state failed: ${String(error)}\n`);
        return;
      }
      send(res, 200, 'application/json; charset=utf-8', state);
      return;
    }
    const asset = assets.get(path) as Asset;
    send(res, 200, asset.type, asset.body);
  };
}

/**
 * Serves the console on 127.0.0.1:`port`.
 *
 * @throws ConsolePortInUseError when the port is taken.
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<RunningConsoleServer> {
  const assets = consoleAssets();
  let port = options.port;
  const server = createServer(handler(assets, options, () => port));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new ConsolePortInUseError(options.port, { cause: error }) : error),
    );
    server.listen(options.port, CONSOLE_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${CONSOLE_HOST}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
