#!/usr/bin/env node
/* global require, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS entry point, run by node directly */
'use strict';
// `npx shardflow` entry. In this repository the CLI runs from its TypeScript sources; in the installed
// package (no sources) from the compiled `dist/`. tsx's CommonJS loader is registered either way: users'
// pipeline modules and CDK apps are TypeScript.
// The project supports Node.js 20 (package.json engines); the SDK's "use Node 22" notice would
// otherwise precede the output of every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
require('tsx/cjs');
const entry = [
  join(__dirname, 'main.ts'),
  join(__dirname, 'main.js'),
  join(__dirname, '..', '..', 'dist', 'localstack', 'cli', 'main.js'),
].find((candidate) => existsSync(candidate));
const { main } = require(entry);

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`shardflow: ${error && error.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
