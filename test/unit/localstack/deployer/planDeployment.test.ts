import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readStackArtifact } from '../../../../localstack/deployer/cloudAssembly';
import { planDeployment } from '../../../../localstack/deployer/planDeployment';
import type { DeploymentPlan } from '../../../../localstack/deployer/types';
import { RECORDING_HANDLER_DIR, synthEsmTestApp } from '../../../helpers/fixtures/esmTestApp';

describe('planDeployment', () => {
  let dir: string;
  let plan: DeploymentPlan;
  let again: DeploymentPlan;

  beforeAll(() => {
    // Inside the repository so the staged asset resolves node_modules like the real cdk.out does.
    const scratch = join(__dirname, '../../../../.shardflow');
    mkdirSync(scratch, { recursive: true });
    dir = mkdtempSync(join(scratch, 'plan-test-'));
    const templatePath = synthEsmTestApp(join(dir, 'cdk.out'));
    const artifact = readStackArtifact(templatePath);
    plan = planDeployment(artifact.template, { stackName: artifact.stackName }, artifact.locateAsset);
    again = planDeployment(artifact.template, { stackName: artifact.stackName }, artifact.locateAsset);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a stream has no name, it gets a deterministic CloudFormation-style name and ARN', () => {
    expect(plan.streams).toHaveLength(1);
    const stream = plan.streams[0];
    expect(stream?.name).toMatch(/^EsmTest-Events[0-9A-F]{8}-[A-Z0-9]{13}$/);
    expect(stream).toMatchObject({
      shardCount: 2,
      onDemand: false,
      arn: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream?.name}`,
    });
    expect(again.streams[0]?.name).toBe(stream?.name);
  });

  it('when a table has keys, a GSI and TTL, it plans all of them with the billing mode', () => {
    expect(plan.tables[0]).toMatchObject({
      keySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      billingMode: 'PAY_PER_REQUEST',
      ttlAttribute: 'ttl',
      globalSecondaryIndexes: [
        {
          IndexName: 'open-windows',
          KeySchema: [
            { AttributeName: 'openPk', KeyType: 'HASH' },
            { AttributeName: 'closeAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('when a function uses Code.fromAsset, it finds the staged bundle and resolves its environment', () => {
    const fn = plan.functions[0];
    expect(fn?.entryFile).toMatch(/cdk\.out\/asset\.[0-9a-f]{64}\/index\.js$/);
    expect(fn?.entryFile.startsWith(RECORDING_HANDLER_DIR)).toBe(false);
    expect(fn).toMatchObject({
      exportName: 'handler',
      timeoutSeconds: 10,
      memorySize: 256,
      environment: { RECEIVED_BUCKET: plan.buckets[0]?.name, TABLE_NAME: plan.tables[0]?.name },
    });
    expect(plan.buckets[0]?.name).toMatch(/^esmtest-received[0-9a-f]{8}-[a-z0-9]{13}$/);
    expect(fn?.roleArn).toMatch(/^arn:aws:iam::000000000000:role\/EsmTest-RecorderServiceRole/);
  });

  it('when the template has an event source mapping, it carries every setting', () => {
    expect(plan.mappings).toHaveLength(1);
    expect(plan.mappings[0]).toMatchObject({
      functionName: plan.functions[0]?.functionName,
      eventSourceArn: plan.streams[0]?.arn,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10,
      parallelizationFactor: 2,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 1,
      functionResponseTypes: ['ReportBatchItemFailures'],
      onFailureDestination: plan.buckets[0]?.arn,
    });
    expect(plan.mappings[0]?.uuid).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('when the template has a scheduled rule, it exposes the tick target and rate', () => {
    expect(plan.schedules).toEqual([
      {
        logicalId: expect.stringMatching(/^Tick/),
        expression: 'rate(1 minute)',
        rateMs: 60_000,
        functionName: plan.functions[0]?.functionName,
        enabled: true,
      },
    ]);
  });

  it('when resources have no local meaning, it lists them as ignored with their type', () => {
    const types = new Set(plan.ignored.map((r) => r.type));
    expect(types).toEqual(
      new Set(['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::S3::BucketPolicy', 'AWS::Lambda::Permission']),
    );
    expect(plan.unsupported).toEqual([]);
    expect(plan.queues[0]?.url).toMatch(
      /^https:\/\/sqs\.us-east-1\.amazonaws\.com\/000000000000\/EsmTest-Failures/,
    );
  });

  it('when outputs use Ref and Fn::Join, it resolves them', () => {
    expect(plan.outputs).toEqual({
      StreamName: plan.streams[0]?.name,
      BucketArnPath: `${plan.buckets[0]?.arn}/received/*`,
    });
  });
});
