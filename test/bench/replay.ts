/**
 * Bench part `replay`: a bounded replay of a 120,000-event file (the `npm start` clickstream: 123,000 records
 * with duplicates, malformed and late ones) through the local stack, as a user runs it —
 * `shardflow run page-activity --input <file>` through the installed bin (`node localstack/cli/bin.js`),
 * default emulators — against the in-memory run of the same file (`--in-memory`) in the same run. The
 * synthesized app is cached before the timed run (`synthMs` is what a first run pays once more).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeCached } from '../../localstack/start/synthesize';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'localstack/cli/bin.js');

/** The figures written under `replay` in results.json. */
export interface ReplayFigures {
  readonly records: number;
  /** Records / wall time of `shardflow run` through the local stack, start to exit (cloud start, deploy, send, drain, close, query). */
  readonly recordsPerSec: number;
  readonly seconds: number;
  readonly inMemoryRecordsPerSec: number;
  readonly inMemorySeconds: number;
  /** Wall time of a `cdk synth` the cache saved. */
  readonly synthMs: number;
  /** 1 when both runs printed the same row count, rejected and late counts. */
  readonly countsMatch: number;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function shardflow(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** The `N records in → R rows; J rejected, L late, D duplicates dropped` summary a run prints last. */
function summary(run: Run): string {
  const match = /(\d+) records in → (\d+) rows; (\d+) rejected, (\d+) late, (\d+) duplicates dropped/.exec(
    run.stderr,
  );
  if (run.code !== 0 || match === null)
    throw new Error(`replay: shardflow exited ${run.code}: ${run.stderr.slice(-500)}`);
  return match[0];
}

export async function runReplayBench(
  options: { readonly events?: number; readonly log?: (line: string) => void } = {},
): Promise<ReplayFigures> {
  const log = options.log ?? ((line: string) => console.log(line));
  const events = options.events ?? 120_000;
  const dir = await mkdtemp(join(tmpdir(), 'shardflow-replay-'));
  try {
    const file = join(dir, 'clicks.jsonl');
    const generated = await shardflow(['generate', '-n', String(events), '--seed', '5', '-o', file]);
    if (generated.code !== 0) throw new Error(`replay: generate failed: ${generated.stderr}`);
    const records = Number(/(\d+) records/.exec(generated.stdout + generated.stderr)?.[1]);
    const synthStarted = performance.now();
    const app = await synthesizeCached(ROOT);
    const synthMs = app.cached ? 0 : Math.round(performance.now() - synthStarted);
    log(`replay: ${records} records; in memory…`);
    const inMemory = await shardflow(['run', 'page-activity', '--input', file, '--in-memory']);
    log(`replay: ${summary(inMemory)} in ${Math.round(inMemory.ms)} ms; through the local stack…`);
    const stack = await shardflow(['run', 'page-activity', '--input', file]);
    log(`replay: ${summary(stack)} in ${Math.round(stack.ms)} ms`);
    return {
      records,
      recordsPerSec: Math.round(records / (stack.ms / 1000)),
      seconds: Number((stack.ms / 1000).toFixed(1)),
      inMemoryRecordsPerSec: Math.round(records / (inMemory.ms / 1000)),
      inMemorySeconds: Number((inMemory.ms / 1000).toFixed(1)),
      synthMs,
      countsMatch: summary(stack) === summary(inMemory) ? 1 : 0,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
