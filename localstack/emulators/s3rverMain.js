'use strict';
/**
 * Entry point of the S3 emulator child: s3rver, started through its API.
 * usage: node --require loopbackPreload.js s3rverMain.js <directory> <port>
 *
 * s3rver accepts only its one built-in access key (`S3RVER`) and answers InvalidAccessKeyId to
 * anything else, while LocalStack (and this local cloud) accept any key. Unknown keys are therefore
 * mapped to s3rver's dummy account. This touches s3rver's account registry (lib/models/account.js,
 * s3rver 3.7.x); it lives in this launcher rather than a fork because the registry is a plain Map.
 */
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const knownAccount = AWSAccount.registry.get.bind(AWSAccount.registry);
AWSAccount.registry.get = (accessKeyId) => knownAccount(accessKeyId) || AWSAccount.DUMMY_ACCOUNT;

const [directory, port] = process.argv.slice(2);
if (!directory || !port) {
  process.stderr.write('usage: s3rverMain.js <directory> <port>\n');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  // SigV4 is not verified by s3rver anyway; this also lets SigV2 clients with any secret through.
  allowMismatchedSignatures: true,
  vhostBuckets: false,
});
// `silent` also silences Koa's report of a request that failed inside s3rver (answered as InternalError,
// "We encountered an internal error"); write those to stderr so that the cause reaches the emulator log.
server.on('error', (error, ctx) => {
  if (error && error.status !== undefined && error.status < 500) return;
  const request = ctx ? `${ctx.method} ${ctx.url}` : 'no request';
  process.stderr.write(
    `s3rver internal error on ${request}: ${(error && (error.stack || error.message)) || error}\n`,
  );
});
server.run().catch((error) => {
  process.stderr.write(`s3rver failed to start: ${error && error.message}\n`);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close().finally(() => process.exit(0));
  });
}
