import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import {
  SECURITY_HEADERS,
  startConsoleServer,
  type RunningConsoleServer,
} from '../../../../localstack/console/consoleServer';
import { ConsolePortInUseError } from '../../../../localstack/console/errors';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function call(port: number, method: string, path: string, host = `127.0.0.1:${port}`): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startConsoleServer', () => {
  let server: RunningConsoleServer;
  let reads = 0;

  beforeAll(async () => {
    server = await startConsoleServer({ port: 0, state: () => ({ seq: ++reads, text: '<b>x</b>' }) });
  });
  afterAll(() => server.close());

  it('when started on port 0, it listens on 127.0.0.1 only, on a free port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it.each([
    ['/', 'text/html; charset=utf-8', '<script type="module" src="/console.js"></script>'],
    ['/console.js', 'text/javascript; charset=utf-8', "from './graph.js'"],
    ['/dom.js', 'text/javascript; charset=utf-8', 'textContent'],
    ['/console.css', 'text/css; charset=utf-8', '.graph'],
    ['/vendor/uPlot.iife.min.js', 'text/javascript; charset=utf-8', 'uPlot'],
    ['/vendor/uPlot.min.css', 'text/css; charset=utf-8', '.uplot'],
  ])(
    'when %s is asked for, it answers the file with its type and the security headers',
    async (path, type, text) => {
      const answer = await call(server.port, 'GET', path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe(type);
      expect(answer.body).toContain(text);
      for (const [name, value] of Object.entries(SECURITY_HEADERS))
        expect(answer.headers[name.toLowerCase()]).toBe(value);
    },
  );

  it('when the page is served, its policy allows no inline script and nothing from elsewhere', async () => {
    const answer = await call(server.port, 'GET', '/');
    const policy = String(answer.headers['content-security-policy']);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body).not.toMatch(/<script>|<script [^>]*>[^<]|\son\w+=|https?:\/\//);
  });

  it('when the state is asked for, it answers the current view as JSON, computed per request', async () => {
    const first = await call(server.port, 'GET', '/api/state?t=1');
    const second = await call(server.port, 'GET', '/api/state');
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(second.body).seq).toBe(JSON.parse(first.body).seq + 1);
  });

  it.each([
    ['GET', '/index.html', 404],
    ['GET', '/../package.json', 404],
    ['GET', '/vendor/../../package.json', 404],
    ['POST', '/api/state', 405],
    ['PUT', '/', 405],
    ['DELETE', '/console.js', 405],
    ['HEAD', '/', 405],
    ['POST', '/nowhere', 404],
  ])('when asked %s %s, it refuses with %d', async (method, path, status) => {
    const answer = await call(server.port, method, path);
    expect(answer.status).toBe(status);
    if (status === 405) expect(answer.headers.allow).toBe('GET');
    expect(answer.headers['content-security-policy']).toBe(SECURITY_HEADERS['Content-Security-Policy']);
  });

  it('when the Host header names another server (DNS rebinding), it refuses with 403', async () => {
    expect((await call(server.port, 'GET', '/api/state', 'evil.example:80')).status).toBe(403);
    expect((await call(server.port, 'GET', '/api/state', `localhost:${server.port}`)).status).toBe(200);
  });

  // What a browser sends for <img src="http://127.0.0.1:PORT//[">: the console's own Host passes the check,
  // so any page the user opens could end the console if the target threw.
  it.each(['//[', '//a:99999/', 'http://[/'])(
    'when the request target %s cannot parse, it answers 400 and keeps serving',
    async (target) => {
      const statusLine = await new Promise<string>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () =>
          socket.write(
            `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`,
          ),
        );
        let out = '';
        socket.on('data', (d: Buffer) => (out += d.toString()));
        socket.on('close', () => resolve(out.split('\r\n')[0] ?? ''));
        socket.on('error', () => resolve(''));
      });
      expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
      expect((await call(server.port, 'GET', '/api/state')).status).toBe(200);
    },
  );

  it('when computing the state throws, it answers 500 and keeps serving', async () => {
    const failing = await startConsoleServer({
      port: 0,
      state: () => {
        throw new Error('no view');
      },
    });
    try {
      const answer = await call(failing.port, 'GET', '/api/state');
      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 500,
        body: 'Console state failed: Error: no view\n',
      });
      expect((await call(failing.port, 'GET', '/')).status).toBe(200);
    } finally {
      await failing.close();
    }
  });

  it('when the port is taken, it fails with the one line that says what to do', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const started = startConsoleServer({ port, state: () => ({}) });
      await expect(started).rejects.toBeInstanceOf(ConsolePortInUseError);
      await expect(started).rejects.toThrow(
        `Console port ${port} is already in use: pass --port 0 for a free port (or stop what holds it)`,
      );
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
