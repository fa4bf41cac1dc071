/**
 * Standalone fault suite: `npm run test:faults -- --schedules N --seed S [--backend memory|local]`.
 * Prints the seed first; a failing schedule is replayed with `--schedules 1 --seed <its seed>`.
 */
import { Command } from 'commander';
import { ParquetResultEncoder } from '../../functions/adapters/ParquetResultEncoder';
import { startLocalCloud } from '../../localstack/emulators';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../localstack/emulators';
import { resetClients } from '../../functions/adapters/aws';
import { localCloudBackend, memoryBackend } from './backends';
import { runScheduleThroughEsm } from './esmHarness';
import { runSchedule } from './harness';
import { FAULT_PIPELINES } from './pipelines';

async function main(): Promise<void> {
  const options = new Command()
    .option('--schedules <n>', 'number of schedules', '200')
    .option('--seed <s>', 'first seed (schedule i uses seed + i)', String(Date.now() % 2 ** 31))
    .option(
      '--backend <b>',
      'memory, local (embedded emulators) or esm (emulators + event-source-mapping runtime)',
      'memory',
    )
    .parse()
    .opts<{ schedules: string; seed: string; backend: string }>();
  const schedules = Number(options.schedules);
  const seed = Number(options.seed);
  if (!Number.isSafeInteger(schedules) || schedules < 1)
    throw new Error(`--schedules must be a positive integer (given ${options.schedules})`);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(`--seed must be a non-negative integer (given ${options.seed})`);
  console.log(`fault suite: ${schedules} schedules, seed ${seed}, backend ${options.backend}`);
  if (!['memory', 'local', 'esm'].includes(options.backend))
    throw new Error(`--backend must be memory, local or esm (given ${options.backend})`);
  const cloud = options.backend !== 'memory' ? await startLocalCloud({ edgePort: 0 }) : undefined;
  if (cloud !== undefined) {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: cloud.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
    resetClients();
  }
  let failed = 0;
  const totals = { records: 0, invocations: 0, failedInvocations: 0, windows: 0, faults: 0 };
  const kinds: Record<string, number> = {};
  const started = performance.now();
  try {
    for (let i = 0; i < schedules; i++) {
      const target = FAULT_PIPELINES[(seed + i) % FAULT_PIPELINES.length] ?? FAULT_PIPELINES[0]!;
      const report =
        options.backend === 'esm'
          ? await runScheduleThroughEsm(seed + i, {
              ...target,
              encoder: new ParquetResultEncoder(),
              region: LOCAL_REGION,
            })
          : await runSchedule(seed + i, {
              ...target,
              encoder: new ParquetResultEncoder(),
              backend: cloud ? localCloudBackend : memoryBackend,
            });
      totals.records += report.records;
      totals.invocations += report.invocations;
      totals.failedInvocations += report.failedInvocations;
      totals.windows += report.resultRows;
      totals.faults += Object.values(report.injected).reduce((a, b) => a + b, 0);
      for (const [kind, n] of Object.entries(report.injected))
        kinds[kind.split(' ').slice(0, 2).join(' ')] =
          (kinds[kind.split(' ').slice(0, 2).join(' ')] ?? 0) + n;
      if (report.mismatches.length > 0) {
        failed += 1;
        console.log(
          `FAIL seed ${report.seed}: ${report.mismatches.slice(0, Number(process.env.SHARDFLOW_FAULT_DETAIL ?? 5)).join('; ')}`,
        );
      }
    }
  } finally {
    await cloud?.stop();
  }
  console.log(
    `${totals.records} records, ${totals.invocations} invocations (${totals.failedInvocations} reported failures), ${totals.faults} injected I/O faults, ${totals.windows} windows emitted`,
  );
  console.log(`injected by kind: ${JSON.stringify(kinds)}`);
  console.log(
    `${schedules - failed}/${schedules} schedules exact in ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${seed})`,
  );
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
