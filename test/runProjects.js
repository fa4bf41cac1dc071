#!/usr/bin/env node
/* global require, process, __dirname, Buffer */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS script, run by node directly (before any TypeScript loader) */
/**
 * `npm test`'s jest step: the four jest projects as two concurrent jest runs, `unit` + `cdk` + `faults`
 * beside `integration` (about equally long: 390 and 410 s on 2 cores).
 *
 * Why two runs and not `--maxWorkers=2`: on a 2-core machine jest runs one worker, and the integration and
 * fault tests spend much of their time waiting on emulator processes (DynamoDB Local, Kinesis, S3), so the
 * pure tests fit into that idle time. Integration files must not run beside each other, though: several
 * start the CLI against the project's `.shardflow/` folder (pid file, checkpoints, assemblies) or a fixed
 * edge port. Two runs, one of which holds every integration file, keeps them serial. The fault suite starts
 * its own emulators on free ports and touches no shared folder, so it can run beside them.
 *
 * The integration run prints as it goes; the unit run's output is kept and printed after it, so the two do
 * not interleave. Exits non-zero when either run failed. Extra arguments go to both runs.
 */
'use strict';
const { spawn } = require('node:child_process');
const { join } = require('node:path');

const jest = join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js');
const extra = process.argv.slice(2);

function run(projects, capture) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [jest, '--selectProjects', ...projects, ...extra], {
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    const chunks = [];
    if (capture) {
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
    }
    child.on('error', (error) => resolve({ code: 1, output: `could not start jest: ${error.message}\n` }));
    child.on('exit', (code, signal) =>
      resolve({ code: code ?? (signal === null ? 1 : 128), output: Buffer.concat(chunks).toString() }),
    );
  });
}

(async () => {
  const started = Date.now();
  const [pure, stack] = await Promise.all([
    run(['unit', 'cdk', 'faults'], true),
    run(['integration'], false),
  ]);
  process.stdout.write(`\n===== jest projects unit, cdk, faults =====\n${pure.output}`);
  const seconds = Math.round((Date.now() - started) / 1000);
  const verdict = (r) => (r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`);
  process.stdout.write(
    `\njest: unit+cdk+faults ${verdict(pure)}, integration ${verdict(stack)}, ${seconds} s wall\n`,
  );
  process.exitCode = pure.code !== 0 ? pure.code : stack.code;
})();
