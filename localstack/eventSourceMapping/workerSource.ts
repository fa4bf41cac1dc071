/**
 * Source of the worker thread that hosts one warm function instance. Kept as a string (run with
 * `eval: true`) so the runtime works the same from TypeScript (tsx, jest) and compiled JavaScript.
 * The module is loaded once per worker, so module-level state survives between invocations like a
 * warm Lambda execution environment. A Kinesis event arrives packed (`packedEvent.ts`) and is rebuilt here.
 */
import { UNPACK_EVENT_SOURCE } from './packedEvent';

export const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
${UNPACK_EVENT_SOURCE}
const { pathToFileURL } = require('node:url');
let handlerPromise;
function loadHandler() {
  if (handlerPromise === undefined) {
    handlerPromise = (async () => {
      const file = workerData.entryFile;
      const mod = /\.mjs$/.test(file) ? await import(pathToFileURL(file).href) : require(file);
      const fn = mod[workerData.exportName] ?? (mod.default && mod.default[workerData.exportName]);
      if (typeof fn !== 'function') {
        const error = new Error(file + ' does not export a function named ' + workerData.exportName);
        error.name = 'Runtime.HandlerNotFound';
        throw error;
      }
      return fn;
    })();
  }
  return handlerPromise;
}
// Init runs when the worker starts, under its own budget (the invoker starts the function timer after it);
// a failed init is reported by each invocation, as Lambda does.
loadHandler().then(
  () => parentPort.postMessage({ init: true }),
  () => parentPort.postMessage({ init: true }),
);
function toJson(value) {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
parentPort.on('message', async (message) => {
  const deadline = Date.now() + message.timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: workerData.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: workerData.functionArn,
    memoryLimitInMB: String(workerData.memorySize),
    awsRequestId: message.requestId,
    logGroupName: '/aws/lambda/' + workerData.functionName,
    logStreamName: workerData.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const handler = await loadHandler();
    const result = await new Promise((resolve, reject) => {
      const callback = (error, value) => (error ? reject(error) : resolve(value));
      const event = message.packed === undefined ? message.event : unpackKinesisEvent(message.packed);
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    });
    parentPort.postMessage({ id: message.id, ok: true, payload: toJson(result) });
  } catch (error) {
    parentPort.postMessage({
      id: message.id,
      ok: false,
      errorType: (error && error.name) || 'Error',
      errorMessage: String((error && error.message) || error),
    });
  }
});
`;
