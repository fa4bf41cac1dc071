import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { packKinesisEvent } from './packedEvent';
import { WORKER_SOURCE } from './workerSource';
import type { FunctionDefinition, InvocationOutcome, InvocationRequest, Invoker } from './types';

export interface WorkerInvokerOptions {
  /** Extra environment for every function, e.g. `{ AWS_ENDPOINT_URL: cloud.endpoint }`. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Pass the worker's stdout/stderr through to this process. @default true */
  readonly inheritOutput?: boolean;
}

interface WarmInstance {
  readonly worker: Worker;
  readonly fn: FunctionDefinition;
  /** Settles when the module has loaded (or failed to, or the worker ended), at most after the init budget. */
  readonly initialized: Promise<void>;
}

/** Lambda's budget for a cold start's Init phase, outside the function's Timeout. */
const INIT_BUDGET_MS = 10_000;

/**
 * Runs bundled handlers in `worker_threads`, one worker per concurrent invocation of a function, kept
 * warm between invocations (module state survives) like a Lambda execution environment. A cold start's
 * Init (loading the module) has its own 10 s budget; the function's Timeout, counted after it, is enforced
 * by terminating the worker (Lambda resets the environment after a timeout too); a timed-out or crashed worker is discarded
 * and the invocation reported as failed.
 */
export class WorkerInvoker implements Invoker {
  private readonly idle = new Map<string, WarmInstance[]>();
  private readonly busy = new Set<WarmInstance>();
  private closed = false;
  /** Workers started so far (cold starts). */
  public coldStarts = 0;

  public constructor(private readonly options: WorkerInvokerOptions = {}) {}

  public async invoke(request: InvocationRequest): Promise<InvocationOutcome> {
    return this.invokeEvent(request.fn, request.event, request.requestId);
  }

  /** Invokes a function with any event (e.g. the scheduled event of a tick). */
  public async invokeEvent(
    fn: FunctionDefinition,
    event: unknown,
    requestId: string,
  ): Promise<InvocationOutcome> {
    const request = { fn, event, requestId };
    if (this.closed)
      return {
        ok: false,
        functionError: 'Crashed',
        errorType: 'InvokerClosed',
        errorMessage: 'the invoker is closed',
      };
    const instance = this.acquire(request.fn);
    this.busy.add(instance);
    const outcome = await this.run(instance, request);
    this.busy.delete(instance);
    if (outcome.ok || outcome.functionError === 'Unhandled') {
      if (this.closed) await instance.worker.terminate();
      else this.idleList(request.fn.functionName).push(instance);
    } else {
      await instance.worker.terminate();
    }
    return outcome;
  }

  public async close(): Promise<void> {
    this.closed = true;
    const all = [...this.busy, ...[...this.idle.values()].flat()];
    this.idle.clear();
    await Promise.all(all.map((instance) => instance.worker.terminate()));
  }

  private idleList(functionName: string): WarmInstance[] {
    let list = this.idle.get(functionName);
    if (list === undefined) {
      list = [];
      this.idle.set(functionName, list);
    }
    return list;
  }

  private acquire(fn: FunctionDefinition): WarmInstance {
    const warm = this.idleList(fn.functionName).pop();
    if (warm !== undefined) return warm;
    this.coldStarts += 1;
    const inherit = this.options.inheritOutput ?? true;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      env: this.environmentOf(fn),
      workerData: {
        entryFile: fn.entryFile,
        exportName: fn.exportName,
        functionName: fn.functionName,
        functionArn: fn.functionArn,
        memorySize: fn.memorySize,
        logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      },
      // Lambda's memory setting bounds the heap; keep a floor so the SDK itself can load.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(fn.memorySize, 96) },
      stdout: !inherit,
      stderr: !inherit,
    });
    worker.unref();
    const initialized = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', onInit);
        worker.off('error', done);
        worker.off('exit', done);
        resolve();
      };
      const onInit = (message: { init?: boolean }): void => {
        if (message.init === true) done();
      };
      const timer = setTimeout(done, INIT_BUDGET_MS);
      worker.on('message', onInit);
      worker.on('error', done);
      worker.on('exit', done);
    });
    return { worker, fn, initialized };
  }

  private environmentOf(fn: FunctionDefinition): Record<string, string> {
    const region = fn.region;
    return {
      PATH: process.env.PATH ?? '',
      TZ: ':UTC',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      LAMBDA_TASK_ROOT: dirname(fn.entryFile),
      _HANDLER: `${fn.exportName}`,
      ...(process.env.AWS_ENDPOINT_URL === undefined
        ? {}
        : { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL }),
      ...this.options.environment,
      ...fn.environment,
    };
  }

  private async run(
    instance: WarmInstance,
    request: { readonly event: unknown; readonly requestId: string },
  ): Promise<InvocationOutcome> {
    // The function's Timeout counts from the end of Init (a cold start's module loading), like Lambda.
    await instance.initialized;
    const { worker, fn } = instance;
    if (worker.threadId === -1)
      return {
        ok: false,
        functionError: 'Crashed',
        errorType: 'Runtime.ExitError',
        errorMessage: 'Runtime exited during init',
      };
    const timeoutMs = fn.timeoutSeconds * 1000;
    const id = randomUUID();
    // Before any listener or timer is set: an event whose reading throws leaves nothing behind on the worker.
    const packed = packKinesisEvent(request.event);
    const message =
      packed === undefined
        ? { id, requestId: request.requestId, timeoutMs, event: request.event }
        : { id, requestId: request.requestId, timeoutMs, packed };
    return new Promise<InvocationOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: InvocationOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(outcome);
      };
      const onMessage = (message: {
        id: string;
        ok: boolean;
        payload?: unknown;
        errorType?: string;
        errorMessage?: string;
      }): void => {
        if (message.id !== id) return;
        finish(
          message.ok
            ? { ok: true, payload: message.payload }
            : {
                ok: false,
                functionError: 'Unhandled',
                errorType: message.errorType ?? 'Error',
                errorMessage: message.errorMessage ?? '',
              },
        );
      };
      const onError = (error: Error): void =>
        finish({
          ok: false,
          functionError: 'Crashed',
          errorType: error.name,
          errorMessage: `Runtime exited with error: ${error.message}`,
        });
      const onExit = (code: number): void =>
        finish({
          ok: false,
          functionError: 'Crashed',
          errorType: 'Runtime.ExitError',
          errorMessage: `Runtime exited with exit code ${code}`,
        });
      const timer = setTimeout(
        () =>
          finish({
            ok: false,
            functionError: 'TimedOut',
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
          }),
        timeoutMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(message);
    });
  }
}
