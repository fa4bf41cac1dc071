import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../functions/core/constants';
import { planDeployment } from '../../localstack/deployer/planDeployment';
import type { CfnTemplate, DeploymentPlan } from '../../localstack/deployer/types';
import type { ShardflowStack } from '../../lib/stacks/ShardflowStack';
import { buildStack, deployed, pipelineSpec, sessionSpec } from './helpers';

// The same synthesized template must run on the laptop (DESIGN.md §6): the local cloud's deployer
// has to find every runtime resource in it and nothing it cannot run.
describe('the synthesized stack on the local cloud deployer', () => {
  let stack: ShardflowStack;
  let plan: DeploymentPlan;

  beforeAll(() => {
    // GIVEN two pipelines, one with overridden mapping settings
    stack = buildStack({
      pipelines: [
        deployed(pipelineSpec()),
        { ...deployed(sessionSpec()), eventSource: { batchSize: 25, retryAttempts: 2 } },
      ],
      tick: { interval: Duration.minutes(2) },
    });
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    const assemblyDir = (stack.node.root as App).synth().directory;
    // WHEN the deployer plans it
    // cdk.out keeps each function bundle in `asset.<hash>`, the hash being the asset's S3 key.
    plan = planDeployment(template, { stackName: stack.stackName }, ({ s3Key }) =>
      s3Key === undefined ? undefined : path.join(assemblyDir, `asset.${s3Key.replace(/\.zip$/, '')}`),
    );
  });

  it('when planned, no resource is unsupported', () => {
    expect(plan.unsupported).toEqual([]);
  });

  it('when planned, it creates both streams, the state table with its TTL, and both buckets', () => {
    expect(plan.streams.map((s) => [s.name, s.onDemand, s.shardCount])).toEqual([
      ['flights', false, 2],
      ['clicks', true, undefined],
    ]);
    expect(plan.tables).toHaveLength(1);
    expect(plan.tables[0]).toMatchObject({
      ttlAttribute: 'ttl',
      globalSecondaryIndexes: [],
    });
    expect(plan.buckets).toHaveLength(2);
  });

  it('when planned, every function has its bundle and the table, bucket and stream names in its environment', () => {
    // Operator, tick and upgrade check of each pipeline.
    expect(plan.functions).toHaveLength(6);
    const bucket = plan.outputs['ResultsBucketName'];
    const table = plan.outputs['StateTableName'];
    for (const fn of plan.functions) {
      // Bundled by the local esbuild into cdk.out: minified, with its source map, AWS SDK left out.
      expect(fn.entryFile).toMatch(/index\.js$/);
      expect(existsSync(fn.entryFile)).toBe(true);
      expect(existsSync(`${fn.entryFile}.map`)).toBe(true);
      expect(readFileSync(fn.entryFile, 'utf8')).not.toMatch(/\n\s+\S/);
      expect(fn.environment).toMatchObject({ [ENV.STATE_TABLE]: table });
      // The upgrade check writes no results and reads no stream.
      if (fn.environment['POWERTOOLS_SERVICE_NAME'] !== 'shardflow-upgrade-check')
        expect(fn.environment).toMatchObject({ [ENV.RESULTS_BUCKET]: bucket });
    }
    expect(plan.functions.flatMap((f) => f.environment[ENV.STREAM_NAME] ?? []).sort()).toEqual([
      'clicks',
      'clicks',
      'flights',
      'flights',
    ]);
  });

  it("when planned, each pipeline's upgrade check is a custom resource it runs with the check's function, carrying the definition's fingerprint", () => {
    const checks = new Map(
      plan.functions
        .filter((f) => f.environment['POWERTOOLS_SERVICE_NAME'] === 'shardflow-upgrade-check')
        .map((f) => [f.functionName, f.environment[ENV.PIPELINE]]),
    );
    expect(
      plan.customResources.map((r) => [r.type, checks.get(r.functionName), r.properties['StateFingerprint']]),
    ).toEqual([
      ['Custom::ShardflowUpgradeCheck', 'flight-delays', expect.stringMatching(/^[0-9a-f]{16}$/)],
      ['Custom::ShardflowUpgradeCheck', 'user-sessions', expect.stringMatching(/^[0-9a-f]{16}$/)],
    ]);
    expect(plan.ignored.filter((r) => r.type.startsWith('Custom::'))).toEqual([]);
  });

  it('when planned, each mapping carries the settings the stack chose', () => {
    const byStream = Object.fromEntries(plan.mappings.map((m) => [m.eventSourceArn.split('/').pop(), m]));
    expect(byStream['flights']).toMatchObject({
      startingPosition: 'TRIM_HORIZON',
      batchSize: 2000,
      maximumBatchingWindowInSeconds: 1,
      parallelizationFactor: 1,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 10,
      maximumRecordAgeInSeconds: 86400,
      functionResponseTypes: ['ReportBatchItemFailures'],
      onFailureDestination: `arn:aws:s3:::${plan.outputs['ResultsBucketName']}`,
    });
    expect(byStream['clicks']).toMatchObject({ batchSize: 25, maximumRetryAttempts: 2 });
  });

  it('when planned, each tick runs on its schedule', () => {
    expect(plan.schedules.map((s) => [s.expression, s.rateMs, s.enabled])).toEqual([
      ['rate(2 minutes)', 120_000, true],
      ['rate(2 minutes)', 120_000, true],
    ]);
  });

  it('when planned, the outputs resolve to the local names', () => {
    expect(plan.outputs).toMatchObject({
      AthenaWorkgroupName: 'shardflow',
      GlueDatabaseName: 'shardflow',
      StreamNameFlightDelays: 'flights',
      StreamNameUserSessions: 'clicks',
    });
  });
});
