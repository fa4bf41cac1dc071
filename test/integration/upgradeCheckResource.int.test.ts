/**
 * The stack's own upgrade check (`Custom::ShardflowUpgradeCheck`), as plain `cdk deploy` and the local deployer
 * run it: a deploy of an incompatible definition under open windows fails with the one-line refusal before the
 * new functions run; with `-c shardflow:openWindows=discard` it drops the windows and the new definition runs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { createClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { deployAndRun, type RunningDeployment } from '../../localstack/deployer';
import { CustomResourceFailedError } from '../../localstack/deployer/errors';
import { MemoryCheckpointStore } from '../../localstack/eventSourceMapping';
import { ShardflowPipeline } from '../../lib/constructs/ShardflowPipeline';
import { upgradeViews } from '../fixtures/pipelines/upgradeViews';
import { useLocalCloud } from '../helpers/localCloud';

const cloud = useLocalCloud();

const ROOT = join(__dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/pipelines');
const HOUR = 3_600_000;
/** An hour long past: its window stays open while the watermark (the newest event time) is inside it. */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const before = upgradeViews('count');
const after = upgradeViews('sum');

/**
 * Synthesizes the user's app (one ShardflowPipeline of `module`) in-process into `outdir`, bundles included;
 * its template. A second synth into the same directory reuses the bundles it finds there.
 */
function synth(outdir: string, module: string, context: Record<string, string> = {}): string {
  const app = new App({ outdir, context });
  const stack = new Stack(app, 'UpgradeCheckApp');
  new ShardflowPipeline(stack, 'Views', {
    entry: join(FIXTURES, module),
    analytics: false,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return join(app.synth().directory, stack.templateFile);
}

const deploy = (templatePath: string): Promise<RunningDeployment> =>
  deployAndRun(templatePath, {
    cloud: cloud(),
    checkpoints: new MemoryCheckpointStore(),
    runtime: { pollIntervalMs: 50, shardDiscoveryIntervalMs: 200, retryBackoffMs: 10 },
    log: () => undefined,
  });

/** Puts views `from..to` (user `u<n % 2>`, `ms = n`, at T0 + n) and waits until the mapping applied them. */
async function view(app: RunningDeployment, from: number, to: number): Promise<void> {
  const Records = Array.from({ length: to - from + 1 }, (_, i) => {
    const n = from + i;
    return {
      PartitionKey: `u${n % 2}`,
      Data: Buffer.from(JSON.stringify({ user: `u${n % 2}`, ms: n, ts: T0 + n })),
    };
  });
  const put = await createClients().kinesis.send(
    new PutRecordsCommand({ StreamName: 'upgrade-views', Records }),
  );
  expect(put.FailedRecordCount ?? 0).toBe(0);
  await app.runtime.idle(20_000);
}

describe('the stack upgrade check on the local deployer', () => {
  let dir: string;
  let running: RunningDeployment | undefined;

  beforeAll(() => {
    const scratch = join(ROOT, '.shardflow');
    mkdirSync(scratch, { recursive: true });
    dir = mkdtempSync(join(scratch, 'upgrade-check-int-'));
  });
  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('when an incompatible definition is deployed under an open window, the deploy fails with the refusal and the old functions keep serving; choosing discard drops the window and the new definition runs', async () => {
    const first = synth(join(dir, 'count'), 'upgradeViewsCount.ts');
    const incompatible = synth(join(dir, 'sum'), 'upgradeViewsSum.ts');
    // GIVEN the count definition deployed (its check passes on an empty table) with window T0 open
    running = await deploy(first);
    await view(running, 1, 6);
    const table = running.deployment.outputs['StateTableName'] ?? running.deployment.tables[0]!.name;
    const store = new DynamoDBStateStore({ tableName: table, client: createClients().dynamoDb });
    const progress = async () => (await store.readProgress('upgrade-views')).shards;
    expect((await progress()).map((s) => [s.shape, s.pending.length])).toEqual([
      [before.stateFingerprint, 1],
    ]);

    // WHEN the sum definition is deployed THEN the check refuses it in one line, naming how to choose
    const refused = await deploy(incompatible).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CustomResourceFailedError);
    expect((refused as Error).message).toMatch(
      /^ViewsUpgradeCheck\w+ \(Custom::ShardflowUpgradeCheck\) failed: pipeline upgrade-views: incompatible change under 1 open window \(aggregate n changed from count to sum\); wait until they close, or deploy again with -c shardflow:openWindows=discard to drop them, or with shardflow deploy --drain to emit them first$/,
    );
    // ... and the deployed functions are still the count definition's: they apply the next views under its shape.
    await view(running, 7, 8);
    expect((await progress()).map((s) => [s.shape, s.pending.length, s.counts?.records])).toEqual([
      [before.stateFingerprint, 1, 8],
    ]);

    // WHEN the sum definition is deployed with -c shardflow:openWindows=discard (the old functions stopped first)
    await running.stop();
    const discarding = synth(join(dir, 'sum'), 'upgradeViewsSum.ts', { 'shardflow:openWindows': 'discard' });
    running = await deploy(discarding);
    // THEN the open window is gone, and the new functions write state of the new shape
    expect((await progress()).map((s) => s.pending.length)).toEqual([0]);
    await view(running, 9, 10);
    expect((await progress()).map((s) => [s.shape, s.pending.length])).toEqual([[after.stateFingerprint, 1]]);
  }, 90_000);
});
