'use strict';
/**
 * Preloaded (`node --require`) into every emulator child process. Three jobs, none of which the
 * emulators offer themselves:
 * 1. Loopback only: kinesis-mock hard-codes 0.0.0.0 and dynalite/s3rver default to all interfaces,
 *    so every `server.listen` is forced onto 127.0.0.1.
 * 2. Free ports without races: the parent passes placeholder port numbers listed in
 *    SHARDFLOW_EPHEMERAL_PORTS; a listen on one of them binds port 0 instead and the bound port is
 *    reported over IPC together with the placeholder, so the parent knows which server is which
 *    (kinesis-mock opens a TLS and a plain port) without probing for free ports and racing for them.
 * 3. No orphans: the child exits when its parent goes away (IPC disconnect, or a changed ppid for
 *    the case where the channel is already gone), even if the parent was SIGKILLed.
 * Plain JavaScript because it runs inside third-party programs before any TypeScript loader exists.
 */
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

const placeholders = new Set(
  (process.env.SHARDFLOW_EPHEMERAL_PORTS || '')
    .split(',')
    .filter((p) => p !== '')
    .map(Number),
);

function report(server, requested) {
  const address = server.address();
  if (process.send && address && typeof address === 'object') {
    process.send({ type: 'shardflow:listening', requested, port: address.port });
  }
}

function ephemeral(port) {
  return placeholders.has(Number(port)) ? 0 : port;
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  let requested;
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    if (first.path === undefined) {
      requested = Number(first.port);
      args[0] = { ...first, port: ephemeral(first.port), host: LOOPBACK };
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    requested = Number(first);
    args[0] = ephemeral(first);
    if (typeof args[1] === 'string' || args[1] === undefined || args[1] === null) {
      args[1] = LOOPBACK;
    } else {
      args.splice(1, 0, LOOPBACK);
    }
  }
  this.once('listening', () => report(this, requested));
  return originalListen.apply(this, args);
};

const parentPid = process.ppid;
if (process.send) {
  process.on('disconnect', () => process.exit(0));
}
const watchdog = setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 500);
watchdog.unref();
