#!/usr/bin/env node
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS entry point, run by node directly */
'use strict';
// `npx shardflow` entry: the CLI is TypeScript, run through tsx's CommonJS loader (no build step).
// The project supports Node.js 20 (package.json engines); the SDK's "use Node 22" notice would
// otherwise precede the output of every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
const { main } = require('./main.ts');

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`shardflow: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
