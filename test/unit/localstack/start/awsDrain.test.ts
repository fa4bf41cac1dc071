import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClients } from '../../../../functions/adapters/aws';
import { DRAIN_ACTION } from '../../../../functions/core/state/drain';
import { PIPELINE_OUTPUTS } from '../../../../lib/outputNames';
import { awsDrainer } from '../../../../localstack/start/awsDrain';
import { DrainFailedError } from '../../../../localstack/start/upgradeGate';

/**
 * A stand-in for the Lambda REST API (the four calls `deploy --drain` makes), so the drainer's requests go
 * through the real SDK client: the mappings' states, the calls made, and what the tick answers.
 */
class FakeLambda {
  public readonly calls: string[] = [];
  public readonly invocations: unknown[] = [];
  /** uuid → [function, state, polls left before Disabling turns Disabled] */
  public readonly mappings = new Map<string, { fn: string; state: string; settle: number }>();
  public answer: { status?: number; error?: string; body: string } = {
    body: JSON.stringify({ drainedThrough: 120_000, windowsEmitted: 3 }),
  };
  public gone = new Set<string>();
  private server: Server | undefined;

  public async start(): Promise<string> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public stop(): Promise<void> {
    return new Promise((done) => this.server!.close(() => done()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof value === 'string' ? value : JSON.stringify(value));
    };
    const one = /^\/2015-03-31\/event-source-mappings\/([^/]+)$/.exec(url.pathname);
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname.replace(/\/$/, '') === '/2015-03-31/event-source-mappings') {
      const fn = url.searchParams.get('FunctionName');
      const marker = url.searchParams.get('Marker');
      this.calls.push(`list ${fn} ${marker ?? '-'}`);
      const all = [...this.mappings].filter(([, m]) => m.fn === fn);
      // Two pages of at most 2, to prove the drainer follows NextMarker.
      const from = marker === null ? 0 : Number(marker);
      const page = all.slice(from, from + 2).map(([uuid, m]) => ({ UUID: uuid, State: m.state }));
      return json(200, {
        EventSourceMappings: page,
        ...(from + 2 < all.length ? { NextMarker: String(from + 2) } : {}),
      });
    }
    if (one !== null) {
      const uuid = decodeURIComponent(one[1]!);
      const mapping = this.mappings.get(uuid);
      if (mapping === undefined || this.gone.has(uuid))
        return json(
          404,
          { message: `mapping ${uuid} not found` },
          { 'x-amzn-errortype': 'ResourceNotFoundException' },
        );
      if (req.method === 'PUT') {
        const { Enabled: enabled } = JSON.parse(body) as { Enabled: boolean };
        this.calls.push(`update ${uuid} ${enabled}`);
        mapping.state = enabled ? 'Enabling' : 'Disabling';
        return json(202, { UUID: uuid, State: mapping.state });
      }
      this.calls.push(`get ${uuid}`);
      if (mapping.state === 'Disabling' && (mapping.settle -= 1) < 0) mapping.state = 'Disabled';
      return json(200, { UUID: uuid, State: mapping.state });
    }
    if (req.method === 'POST' && invoke !== null) {
      this.calls.push(`invoke ${decodeURIComponent(invoke[1]!)} ${req.headers['x-amz-invocation-type']}`);
      this.invocations.push(JSON.parse(body));
      return json(
        this.answer.status ?? 200,
        this.answer.body,
        this.answer.error === undefined ? {} : { 'x-amz-function-error': this.answer.error },
      );
    }
    return json(400, { message: `unexpected ${req.method} ${url.pathname}` });
  }
}

const OUTPUTS = {
  [PIPELINE_OUTPUTS.operatorFunction('page-activity')]: 'stack-Operator-1',
  [PIPELINE_OUTPUTS.tickFunction('page-activity')]: 'stack-Tick-1',
};

describe('deploy --drain against AWS (Lambda API)', () => {
  const lambdaApi = new FakeLambda();
  let endpoint: string;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    endpoint = await lambdaApi.start();
    // The SDK's default credential chain reads these; the fake API does not check signatures.
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
  });
  afterAll(async () => {
    await lambdaApi.stop();
    for (const [key, value] of [
      ['AWS_ACCESS_KEY_ID', saved.id],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  });
  beforeEach(() => {
    lambdaApi.calls.length = 0;
    lambdaApi.invocations.length = 0;
    lambdaApi.mappings.clear();
    lambdaApi.gone.clear();
    lambdaApi.answer = { body: JSON.stringify({ drainedThrough: 120_000, windowsEmitted: 3 }) };
  });
  const drainer = (outputs: Record<string, string> = OUTPUTS, extra = {}) =>
    awsDrainer({
      lambda: createClients({
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'us-east-1',
      }).lambda,
      outputs,
      pollMs: 1,
      ...extra,
    });

  test('when draining, it pauses every mapping of the operator, waits until each is Disabled, then invokes the tick with the drain request; resume enables them again', async () => {
    lambdaApi.mappings.set('m1', { fn: 'stack-Operator-1', state: 'Enabled', settle: 2 });
    lambdaApi.mappings.set('m2', { fn: 'stack-Operator-1', state: 'Enabled', settle: 0 });
    lambdaApi.mappings.set('m3', { fn: 'stack-Operator-1', state: 'Disabled', settle: 0 });
    lambdaApi.mappings.set('other', { fn: 'another-fn', state: 'Enabled', settle: 0 });
    const { drain, resume } = drainer();
    expect(await drain('page-activity', 90_000)).toEqual({ drainedThrough: 120_000, windowsEmitted: 3 });
    expect(lambdaApi.invocations).toEqual([{ action: DRAIN_ACTION, atLeast: 90_000 }]);
    const invokeAt = lambdaApi.calls.findIndex((c) => c.startsWith('invoke'));
    // Every pause was confirmed before the invoke; the already-disabled and the other function's mapping untouched.
    expect(lambdaApi.calls.slice(0, invokeAt)).toEqual([
      'list stack-Operator-1 -',
      'list stack-Operator-1 2',
      'update m1 false',
      'update m2 false',
      'get m1',
      'get m1',
      'get m1',
      'get m2',
    ]);
    expect(lambdaApi.calls[invokeAt]).toBe('invoke stack-Tick-1 RequestResponse');
    expect(lambdaApi.mappings.get('other')!.state).toBe('Enabled');
    await resume();
    expect(lambdaApi.calls.slice(invokeAt + 1)).toEqual(['update m1 true', 'update m2 true']);
    await resume();
    expect(lambdaApi.calls.slice(invokeAt + 1)).toHaveLength(2);
  });

  test('when the deploy replaced a paused mapping, resume leaves the new one alone', async () => {
    lambdaApi.mappings.set('m1', { fn: 'stack-Operator-1', state: 'Enabled', settle: 0 });
    const { drain, resume } = drainer();
    await drain('page-activity', undefined);
    expect(lambdaApi.invocations).toEqual([{ action: DRAIN_ACTION }]);
    lambdaApi.gone.add('m1');
    await expect(resume()).resolves.toBeUndefined();
  });

  test('when the tick fails, the drain fails in one line naming its error, and the mappings stay paused for resume', async () => {
    lambdaApi.mappings.set('m1', { fn: 'stack-Operator-1', state: 'Enabled', settle: 0 });
    lambdaApi.answer = {
      error: 'Unhandled',
      body: JSON.stringify({
        errorType: 'StateContentionError',
        errorMessage: 'window 12:00 is\nstill busy',
      }),
    };
    const { drain } = drainer();
    const error = await drain('page-activity', undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrainFailedError);
    expect((error as Error).message).toBe(
      'The drain of pipeline page-activity failed (StateContentionError: window 12:00 is); nothing was deployed: deploy again with --drain',
    );
    expect(lambdaApi.mappings.get('m1')!.state).toBe('Disabled');
  });

  test('when the tick answers something that is no drain result (a tick older than --drain), the drain fails', async () => {
    lambdaApi.answer = { body: JSON.stringify({ windowsEmitted: 'x' }) };
    await expect(drainer().drain('page-activity', undefined)).rejects.toThrow(
      'The tick function of pipeline page-activity did not answer the drain request',
    );
  });

  test('when a mapping does not report Disabled in time, nothing is invoked and the error says what to do', async () => {
    lambdaApi.mappings.set('m1', { fn: 'stack-Operator-1', state: 'Enabled', settle: 1_000 });
    let clock = 0;
    const { drain } = drainer(OUTPUTS, {
      pauseTimeoutMs: 10_000,
      now: () => clock,
      sleep: async (ms: number) => void (clock += ms * 1_000),
    });
    await expect(drain('page-activity', undefined)).rejects.toThrow(
      'Event source mapping m1 of pipeline page-activity is still Disabling after 10 s; nothing was drained or deployed: deploy again with --drain once it shows Disabled',
    );
    expect(lambdaApi.invocations).toEqual([]);
  });

  test('when the recorded outputs do not name the functions, it fails before touching anything', async () => {
    await expect(drainer({}).drain('page-activity', undefined)).rejects.toThrow(
      'The deployment outputs name no OperatorFunctionPageActivity, so pipeline page-activity cannot be drained',
    );
    expect(lambdaApi.calls).toEqual([]);
  });
});
