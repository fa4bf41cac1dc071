/**
 * `deploy --local --drain`'s drainer (`localstack/start/localDrain.ts`) on the local cloud: a stack whose
 * tick function is bundled (esbuild, as the CDK app bundles it) from a pipeline module is deployed by the
 * local deployer; windows are opened under it; the drainer runs that bundle's tick with a drain request
 * and every open window is emitted under the deployed definition.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { build } from 'esbuild';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClients } from '../../functions/adapters/aws';
import { createOperatorRuntime } from '../../functions/adapters/operatorRuntime';
import { ENV, STATE_TABLE } from '../../functions/core/constants';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { checkUpgrade } from '../../functions/core/state/upgradeCheck';
import { deployAndRun } from '../../localstack/deployer';
import { MemoryCheckpointStore } from '../../localstack/eventSourceMapping';
import { NotRunningError } from '../../localstack/start/errors';
import { localDrainer } from '../../localstack/start/localDrain';
import drainViews from '../fixtures/pipelines/drainViews';
import { useLocalCloud } from '../helpers/localCloud';
import { rawRecord } from '../helpers/records';

// jest.mock factories run before imports are bound, so they must require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
jest.mock('hyparquet-writer', () => require('../faults/esmInterop').hyparquetWriterCjs());

const cloud = useLocalCloud();

const ROOT = resolve(__dirname, '../..');
const T0 = Date.UTC(2026, 2, 3, 4, 0, 0);
const pipeline = drainViews as unknown as StatefulPipeline;

/** Bundles the tick of the fixture pipeline into `dir/index.js`, as the app's tick entry does. */
async function bundleTick(dir: string): Promise<void> {
  const entry = join(dir, 'entry.ts');
  await writeFile(
    entry,
    [
      `import * as pipelineModule from '${ROOT}/test/fixtures/pipelines/drainViews';`,
      `import { pipelineOfModule } from '${ROOT}/functions/core/engine/pipelineModule';`,
      `import { tickHandler } from '${ROOT}/functions/handlers/tickHandler';`,
      `import { kinesisSource } from '${ROOT}/functions/adapters/kinesisSource';`,
      `export const handler = tickHandler(pipelineOfModule(pipelineModule, 'drainViews') as never, { source: kinesisSource });`,
    ].join('\n'),
  );
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: join(dir, 'asset', 'index.js'),
    // As the app's bundles do (`BUNDLE_EXTERNALS`), less the SDK: this bundle lives outside the project, where
    // no node_modules holds the SDK the Lambda runtime would provide.
    external: ['../proto/compiled'],
    logLevel: 'silent',
  });
}

/** A stack with the state table, the results bucket and the pipeline's scheduled tick function. */
function synthStack(outdir: string, assetDir: string): string {
  const app = new App({ outdir });
  const stack = new Stack(app, 'DrainTest');
  const table = new dynamodb.Table(stack, 'State', {
    partitionKey: { name: STATE_TABLE.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
    sortKey: { name: STATE_TABLE.SORT_KEY, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const bucket = new s3.Bucket(stack, 'Results', { enforceSSL: true, removalPolicy: RemovalPolicy.DESTROY });
  const tick = new lambda.Function(stack, 'Tick', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(assetDir),
    timeout: Duration.seconds(30),
    environment: {
      [ENV.PIPELINE]: pipeline.spec.name,
      [ENV.STATE_TABLE]: table.tableName,
      [ENV.RESULTS_BUCKET]: bucket.bucketName,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
  });
  new events.Rule(stack, 'Schedule', {
    schedule: events.Schedule.rate(Duration.minutes(1)),
    targets: [new targets.LambdaFunction(tick)],
  });
  app.synth();
  return join(outdir, 'DrainTest.template.json');
}

describe('deploy --local --drain: the deployed tick bundle drains', () => {
  let dir: string;
  let templatePath: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardflow-drain-'));
    await bundleTick(dir);
    templatePath = synthStack(join(dir, 'cdk.out'), join(dir, 'asset'));
    const app = await deployAndRun(templatePath, {
      cloud: cloud(),
      checkpoints: new MemoryCheckpointStore(),
      fireSchedules: false,
      log: () => {},
    });
    const table = app.deployment.tables[0]!.name;
    const bucket = app.deployment.buckets[0]!.name;
    await app.stop();
    env = {
      ...process.env,
      [ENV.PIPELINE]: pipeline.spec.name,
      [ENV.STATE_TABLE]: table,
      [ENV.RESULTS_BUCKET]: bucket,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('when windows are open, the drainer runs the deployed tick with a drain request and every open window is emitted once', async () => {
    const runtime = createOperatorRuntime('shardflow-test', pipeline, env);
    await runtime.processor.apply(
      Array.from({ length: 6 }, (_, i) =>
        rawRecord(
          { user: `u${i % 2}`, ms: i, ts: T0 + i * 1_000 },
          { sequenceNumber: i + 1, approximateArrivalTimestamp: T0 + i * 1_000 },
        ),
      ),
    );
    expect(checkUpgrade(await runtime.store.readProgress(pipeline.spec.name), pipeline).openWindows).toBe(1);
    const drainer = localDrainer({ endpoint: cloud().endpoint, templatePath });
    try {
      await expect(drainer.drain(pipeline.spec.name, undefined)).resolves.toEqual({
        drainedThrough: T0 + 60_000,
        windowsEmitted: 1,
      });
      // Again: nothing is open any more, nothing is written again.
      await expect(drainer.drain(pipeline.spec.name, undefined)).resolves.toEqual({
        drainedThrough: null,
        windowsEmitted: 0,
      });
    } finally {
      await drainer.close();
    }
    expect(checkUpgrade(await runtime.store.readProgress(pipeline.spec.name), pipeline).openWindows).toBe(0);
    const listed = await createClients().s3.send(
      new ListObjectsV2Command({ Bucket: env[ENV.RESULTS_BUCKET], Prefix: 'results/' }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([
      `results/drain_views/dt=2026-03-03/hour=04/${T0}-${T0 + 60_000}.parquet`,
    ]);
  });

  test('when the recorded template is gone, or has no tick for the pipeline, the drain is refused in one line with the next step', async () => {
    const gone = localDrainer({ endpoint: cloud().endpoint, templatePath: join(dir, 'missing.json') });
    const none = localDrainer({ endpoint: cloud().endpoint, templatePath });
    try {
      const refusedGone = await gone.drain(pipeline.spec.name, undefined).catch((e: unknown) => e);
      expect(refusedGone).toBeInstanceOf(NotRunningError);
      expect((refusedGone as Error).message).toContain('npx shardflow deploy --local');
      const refusedNone = await none.drain('other-pipeline', undefined).catch((e: unknown) => e);
      expect(refusedNone).toBeInstanceOf(NotRunningError);
      expect((refusedNone as Error).message).toBe(
        'The deployed stack has no tick function for pipeline other-pipeline; deploy again with --discard-open-windows, or wait until its windows close',
      );
    } finally {
      await gone.close();
      await none.close();
    }
  });
});
