import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { WorkerInvoker } from '../../../../localstack/eventSourceMapping/WorkerInvoker';
import type { FunctionDefinition } from '../../../../localstack/eventSourceMapping/types';

const PROBE: FunctionDefinition = {
  functionName: 'probe',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:probe',
  entryFile: join(__dirname, '../../../helpers/fixtures/handlers/invokerProbe.js'),
  exportName: 'handler',
  timeoutSeconds: 2,
  memorySize: 128,
  environment: { PROBE_VALUE: 'from-template' },
  roleArn: 'arn:aws:iam::000000000000:role/probe',
  region: 'eu-west-1',
};

const event = (mode?: string): KinesisStreamEvent =>
  ({ Records: [], ...(mode === undefined ? {} : { mode }) }) as KinesisStreamEvent;

describe('WorkerInvoker', () => {
  let invoker: WorkerInvoker;
  beforeEach(() => {
    invoker = new WorkerInvoker({ inheritOutput: false });
  });
  afterEach(async () => {
    await invoker.close();
  });

  it('when invoked twice, it reuses the warm worker so module state survives, with the function env and context', async () => {
    const first = await invoker.invoke({ fn: PROBE, event: event(), requestId: 'req-1' });
    const second = await invoker.invoke({ fn: PROBE, event: event(), requestId: 'req-2' });
    expect(first).toMatchObject({
      ok: true,
      payload: { invocations: 1, functionName: 'probe', requestId: 'req-1' },
    });
    expect(second).toMatchObject({
      ok: true,
      payload: {
        invocations: 2,
        requestId: 'req-2',
        env: { custom: 'from-template', lambdaName: 'probe', region: 'eu-west-1' },
      },
    });
    const remaining = (second as { payload: { remaining: number } }).payload.remaining;
    expect(remaining).toBeGreaterThan(1000);
    expect(remaining).toBeLessThanOrEqual(2000);
    expect(invoker.coldStarts).toBe(1);
  });

  it('when the handler throws, it reports an Unhandled error and keeps the instance warm', async () => {
    const outcome = await invoker.invoke({ fn: PROBE, event: event('throw'), requestId: 'r' });
    expect(outcome).toEqual({
      ok: false,
      functionError: 'Unhandled',
      errorType: 'ProbeError',
      errorMessage: 'handler failed on purpose',
    });
    await invoker.invoke({ fn: PROBE, event: event(), requestId: 'r2' });
    expect(invoker.coldStarts).toBe(1);
  });

  it('when the handler runs past the timeout, it terminates the worker and reports a timeout', async () => {
    const started = performance.now();
    const outcome = await invoker.invoke({
      fn: { ...PROBE, timeoutSeconds: 1 },
      event: event('hang'),
      requestId: 'r',
    });
    expect(outcome).toMatchObject({
      ok: false,
      functionError: 'TimedOut',
      errorMessage: 'Task timed out after 1.00 seconds',
    });
    expect(performance.now() - started).toBeLessThan(5_000);
    const next = await invoker.invoke({ fn: PROBE, event: event(), requestId: 'r2' });
    expect(next).toMatchObject({ ok: true, payload: { invocations: 1 } });
    expect(invoker.coldStarts).toBe(2);
  });

  it('when module init takes longer than the Timeout (1.3 s, Timeout 1 s), the first invocation succeeds: Init has its own budget', async () => {
    const entryFile = join(mkdtempSync(join(tmpdir(), 'slow-init-')), 'slowInit.js');
    writeFileSync(
      entryFile,
      'const end = Date.now() + 1300; while (Date.now() < end) {}\n' +
        'exports.handler = async (_event, context) => ({ remaining: context.getRemainingTimeInMillis() });\n',
    );
    const outcome = await invoker.invoke({
      fn: { ...PROBE, entryFile, timeoutSeconds: 1 },
      event: event(),
      requestId: 'r',
    });
    expect(outcome).toMatchObject({ ok: true, payload: { remaining: expect.any(Number) } });
    expect((outcome as { payload: { remaining: number } }).payload.remaining).toBeGreaterThan(500);
  }, 15_000);

  it('when the handler exits the process, it reports a crash and starts a fresh instance next time', async () => {
    const outcome = await invoker.invoke({ fn: PROBE, event: event('exit'), requestId: 'r' });
    expect(outcome).toMatchObject({ ok: false, functionError: 'Crashed', errorType: 'Runtime.ExitError' });
    expect(await invoker.invoke({ fn: PROBE, event: event(), requestId: 'r2' })).toMatchObject({
      ok: true,
      payload: { invocations: 1 },
    });
  });

  it('when an exception escapes the handler, it reports a crash', async () => {
    const outcome = await invoker.invoke({ fn: PROBE, event: event('uncaught'), requestId: 'r' });
    expect(outcome).toMatchObject({ ok: false, functionError: 'Crashed' });
  });

  it('when the handler uses a callback, it returns the callback value', async () => {
    const outcome = await invoker.invoke({
      fn: { ...PROBE, exportName: 'callbackHandler' },
      event: event(),
      requestId: 'r',
    });
    expect(outcome).toEqual({ ok: true, payload: { viaCallback: true } });
  });

  it('when the bundle is an ES module (.mjs), it imports it and keeps it warm', async () => {
    const fn = { ...PROBE, entryFile: join(__dirname, '../../../helpers/fixtures/handlers/esmProbe.mjs') };
    expect(await invoker.invoke({ fn, event: event(), requestId: 'r1' })).toEqual({
      ok: true,
      payload: { calls: 1, records: 0 },
    });
    expect(await invoker.invoke({ fn, event: event(), requestId: 'r2' })).toEqual({
      ok: true,
      payload: { calls: 2, records: 0 },
    });
  });

  it('when the export does not exist, it reports Runtime.HandlerNotFound', async () => {
    const outcome = await invoker.invoke({
      fn: { ...PROBE, exportName: 'missing' },
      event: event(),
      requestId: 'r',
    });
    expect(outcome).toMatchObject({
      ok: false,
      functionError: 'Unhandled',
      errorType: 'Runtime.HandlerNotFound',
    });
  });
});
