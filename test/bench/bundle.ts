/**
 * Bench part `bundle`: page-activity's operator entry, generated from its module as the stack generates it
 * (`pipelineEntries`), bundled the way the stack bundles it (esbuild, minified, CJS, node22, AWS SDK and
 * Smithy external: see `lib/constructs/PipelineFunction.ts`), its size, and its cold init time: a
 * fresh Node.js process loads the bundle and runs one one-record invocation against the local cloud,
 * against the same measurement for an empty handler bundled the same way. Medians of alternating runs.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ENV } from '../../functions/core/constants';
import { shippedPipelineModules } from '../../functions/pipelines/modules';
import { pipelineEntries } from '../../lib/constructs/pipelineEntries';
import { BUNDLE_CONDITION, BUNDLE_EXTERNALS } from '../../lib/constructs/PipelineFunction';
import { createBucket, createStateTable, startBenchCloud } from './benchCloud';
import { clickstreamBatches, DEFAULT_WORKLOAD } from './workload';

const ROOT = join(__dirname, '../..');

/** The figures written under `bundle` in results.json. */
export interface BundleFigures {
  readonly bytes: number;
  readonly baselineBytes: number;
  /** Process start → bundle loaded → one invocation done, median. */
  readonly coldInitMs: number;
  readonly baselineColdInitMs: number;
  readonly ratio: number;
  /** Of `coldInitMs`: loading the bundle (module scope: config, clients, pipeline) only. */
  readonly requireMs: number;
  /** Of `coldInitMs`: the first invocation (one record, a DynamoDB round trip to the emulator). */
  readonly firstInvokeMs: number;
}

export interface BundleBenchOptions {
  /** Cold starts per bundle. @default 7 */
  readonly runs?: number;
}

/** Bundles `entry` with the stack's esbuild settings into `outFile`; returns its size in bytes. */
export async function bundleLikeTheStack(entry: string, outFile: string): Promise<number> {
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    minify: true,
    sourcemap: false,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    external: [...BUNDLE_EXTERNALS],
    conditions: [BUNDLE_CONDITION],
    logLevel: 'error',
  });
  return statSync(outFile).size;
}

interface ColdStart {
  readonly totalMs: number;
  readonly requireMs: number;
  readonly invokeMs: number;
}

const MARK = 'SHARDFLOW_BENCH_COLD_START ';

/** Runs one fresh `node` process that loads `bundle`, invokes its handler once with `event`, and reports timings. */
function coldStart(
  bundle: string,
  event: unknown,
  env: Readonly<Record<string, string>>,
): Promise<ColdStart> {
  // performance.now() in the child counts from its process start, so totalMs includes Node's own boot.
  const script = `
    const t0 = performance.now();
    const m = require(${JSON.stringify(bundle)});
    const t1 = performance.now();
    Promise.resolve(m.handler(${JSON.stringify(event)}, {})).then((r) => {
      const t2 = performance.now();
      if (r && r.batchItemFailures && r.batchItemFailures.length > 0) throw new Error('invocation failed: ' + JSON.stringify(r));
      process.stdout.write('\\n${MARK}' + JSON.stringify({ totalMs: t2, requireMs: t1 - t0, invokeMs: t2 - t1 }) + '\\n');
    }).catch((e) => { console.error(e); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (code !== 0 || line === undefined)
        reject(new Error(`cold start of ${bundle} failed (exit ${code}): ${err.slice(-2000)}`));
      else resolve(JSON.parse(line.slice(MARK.length)) as ColdStart);
    });
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export async function runBundleBench(options: BundleBenchOptions = {}): Promise<BundleFigures> {
  const runs = options.runs ?? 7;
  // Inside the project so the bundles resolve the external AWS SDK from its node_modules, as on Lambda's runtime.
  const scratch = join(ROOT, '.shardflow');
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'bench-bundle-'));
  const bench = await startBenchCloud();
  try {
    const operatorBundle = join(dir, 'operator', 'index.js');
    const emptyBundle = join(dir, 'empty', 'index.js');
    const emptyEntry = join(dir, 'empty.ts');
    writeFileSync(
      emptyEntry,
      'export const handler = async (): Promise<{ batchItemFailures: never[] }> => ({ batchItemFailures: [] });\n',
    );
    const { operatorEntry } = pipelineEntries(shippedPipelineModules[0]!, { projectRoot: ROOT });
    const bytes = await bundleLikeTheStack(operatorEntry, operatorBundle);
    const baselineBytes = await bundleLikeTheStack(emptyEntry, emptyBundle);

    await createStateTable(bench.clients().dynamoDb, 'bench-bundle-state');
    await createBucket(bench.clients().s3, 'bench-bundle-results');
    const env = {
      ...bench.env,
      [ENV.PIPELINE]: 'page-activity',
      [ENV.STATE_TABLE]: 'bench-bundle-state',
      [ENV.RESULTS_BUCKET]: 'bench-bundle-results',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    // One record per run, each run on its own shard id so that no run is a redelivery of an earlier one.
    const [batch] = clickstreamBatches({ ...DEFAULT_WORKLOAD, batches: 1, batchSize: runs });
    if (batch === undefined) throw new Error('bundle bench: no workload');
    const operator: ColdStart[] = [];
    const empty: ColdStart[] = [];
    for (let i = 0; i < runs; i++) {
      const record = batch.Records[i];
      if (record === undefined) throw new Error('bundle bench: workload too short');
      const event = {
        Records: [
          {
            ...record,
            eventID: `shardId-${String(100 + i).padStart(12, '0')}:${record.kinesis.sequenceNumber}`,
          },
        ],
      };
      empty.push(await coldStart(emptyBundle, event, env));
      operator.push(await coldStart(operatorBundle, event, env));
    }
    const coldInitMs = median(operator.map((c) => c.totalMs));
    const baselineColdInitMs = median(empty.map((c) => c.totalMs));
    return {
      bytes,
      baselineBytes,
      coldInitMs: round(coldInitMs),
      baselineColdInitMs: round(baselineColdInitMs),
      ratio: round(coldInitMs / baselineColdInitMs, 2),
      requireMs: round(median(operator.map((c) => c.requireMs))),
      firstInvokeMs: round(median(operator.map((c) => c.invokeMs))),
    };
  } finally {
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
