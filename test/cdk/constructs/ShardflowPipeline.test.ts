import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../../functions/core/constants';
import { build } from 'esbuild';
import { loadPipelineModule } from '../../../lib/constructs/pipelineEntries';
import { BUNDLE_CONDITION, BUNDLE_EXTERNALS } from '../../../lib/constructs/PipelineFunction';
import { shapeText } from '../../../functions/core/state/stateFingerprint';
import { PipelineModuleError, pipelineEntries } from '../../../lib/constructs/pipelineEntries';
import { ShardflowPipeline } from '../../../lib/constructs/ShardflowPipeline';

const ROOT = join(__dirname, '../../..');
const MODULE = join(ROOT, 'test/fixtures/pipelines/devicePurchases.ts');

const newStack = (): Stack =>
  new Stack(new App(), 'User', { env: { account: '123456789012', region: 'eu-west-1' } });

describe('ShardflowPipeline', () => {
  it('when given only its module, it builds the whole pipeline from it: stream, functions bundled from it, table, bucket, Glue table, cdk-nag clean', () => {
    const stack = newStack();
    const built = new ShardflowPipeline(stack, 'Devices', { entry: MODULE });
    const template = Template.fromStack(stack);
    expect(built.spec.name).toBe('device-purchases');
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'device-clicks', ShardCount: 1 });
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::Glue::Table', { TableInput: { Name: 'device_purchases_5m' } });
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(
      functions.map(
        (f) =>
          (f as { Properties: { Environment: { Variables: Record<string, string> } } }).Properties.Environment
            .Variables[ENV.PIPELINE],
      ),
    ).toEqual(['device-purchases', 'device-purchases', 'device-purchases']);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('when given an existing stream, table and bucket and no analytics, it creates none of them and no Glue or Athena', () => {
    const stack = newStack();
    const first = new ShardflowPipeline(stack, 'First', { entry: MODULE, analytics: false });
    const stream = new kinesis.Stream(stack, 'Existing', {
      streamName: 'small-stream',
      encryption: kinesis.StreamEncryption.MANAGED,
    });
    new ShardflowPipeline(stack, 'Second', {
      entry: join(ROOT, 'test/fixtures/pipelines/smallPipeline.ts'),
      stream,
      stateTable: first.stateTable,
      resultsBucket: first.resultsBucket,
      analytics: false,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    template.resourceCountIs('AWS::Glue::Table', 0);
    template.resourceCountIs('AWS::Athena::WorkGroup', 0);
    // Operator, tick and upgrade check of each.
    template.resourceCountIs('AWS::Lambda::Function', 6);
    const fresh = newStack();
    const wrong = new kinesis.Stream(fresh, 'Wrong', {
      streamName: 'other',
      encryption: kinesis.StreamEncryption.MANAGED,
    });
    expect(
      () =>
        new ShardflowPipeline(fresh, 'Third', {
          entry: join(ROOT, 'test/fixtures/pipelines/smallPipeline.ts'),
          stream: wrong,
        }),
    ).toThrow("The given stream must be the pipeline's source stream 'small-stream' (given 'other')");
    expect(() => new ShardflowPipeline(stack, 'Again', { entry: MODULE, analytics: false })).toThrow(
      "Pipeline 'device-purchases' is already deployed in stack User: each pipeline once per stack",
    );
  });
});

describe('ShardflowPipeline upgrade check', () => {
  /** A stack with the pipeline of MODULE, unbundled (the assertions read the template only). */
  function synth(context: Record<string, unknown> = {}): Template {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
    const stack = new Stack(app, 'User', { env: { account: '123456789012', region: 'eu-west-1' } });
    new ShardflowPipeline(stack, 'Devices', { entry: MODULE, analytics: false });
    return Template.fromStack(stack);
  }

  type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
  const only = (found: Record<string, unknown>): [string, Resource] => {
    const entries = Object.entries(found);
    expect(entries).toHaveLength(1);
    return entries[0] as [string, Resource];
  };
  /** The statements of the policy attached to the upgrade-check function's role. */
  function checkStatements(template: Template): unknown[] {
    const [, fn] = only(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Description: 'shardflow upgrade check of pipeline device-purchases' },
      }),
    );
    const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const [, policy] = only(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
    );
    return (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement;
  }

  it('when synthesized, the check is a custom resource carrying the definition it checks (state shape, fingerprint, lateness, choice), served by its own function', () => {
    const template = synth();
    const { pipeline } = loadPipelineModule(MODULE);
    const [, check] = only(template.findResources('Custom::ShardflowUpgradeCheck'));
    expect(check.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^DevicesUpgradeCheck\w*Function/), 'Arn'] },
      StateShape: shapeText(pipeline.stateShape),
      StateFingerprint: pipeline.stateFingerprint,
      AllowedLatenessMs: String(pipeline.spec.time.allowedLatenessMs),
      OpenWindows: 'none',
      ServiceTimeout: '300',
    });
  });

  it('when synthesized, the operator and tick functions depend on the check, so CloudFormation updates them only after it passed', () => {
    const template = synth();
    const [checkId] = only(template.findResources('Custom::ShardflowUpgradeCheck'));
    for (const service of ['shardflow-operator', 'shardflow-tick']) {
      const [, fn] = only(
        template.findResources('AWS::Lambda::Function', {
          Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } },
        }),
      );
      expect(fn.DependsOn).toContain(checkId);
    }
  });

  it("when nothing is chosen, the check may only read the pipeline's progress and segment partitions; with -c shardflow:openWindows=discard it may also rewrite its progress partition, and says so in its properties", () => {
    const progress = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['P#device-purchases'] } };
    const read = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['P#device-purchases', 'C#device-purchases#*'] },
    };
    const table = { 'Fn::GetAtt': [expect.stringMatching(/^DevicesStateTable/), 'Arn'] };
    // Its own log group, and nothing else of CloudWatch Logs.
    const logs = {
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DevicesUpgradeCheck\w*Logs/), 'Arn'] },
    };
    const query = { Action: 'dynamodb:Query', Effect: 'Allow', Resource: table, Condition: read };
    expect(checkStatements(synth())).toEqual([logs, query]);
    const discarding = synth({ 'shardflow:openWindows': 'discard' });
    expect(checkStatements(discarding)).toEqual([
      logs,
      query,
      {
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Effect: 'Allow',
        Resource: table,
        Condition: progress,
      },
    ]);
    discarding.hasResourceProperties('Custom::ShardflowUpgradeCheck', {
      OpenWindows: 'discard-open-windows',
    });
  });

  it('when the choice is not refuse or discard, it names the value given', () => {
    expect(() => synth({ 'shardflow:openWindows': 'drop' })).toThrow(
      "Open windows (shardflow:openWindows) must be one of refuse, discard (given 'drop')",
    );
  });
});

describe('pipelineEntries', () => {
  it('when given a module, it writes entries under the project root that import that module and the handler factories', () => {
    const entries = pipelineEntries(MODULE);
    expect(entries.projectRoot).toBe(ROOT);
    expect(entries.operatorEntry).toBe(join(ROOT, '.shardflow/entries/device-purchases/operator.ts'));
    const text = readFileSync(entries.operatorEntry, 'utf8');
    expect(text).toContain(
      "import * as pipelineModule from '../../../test/fixtures/pipelines/devicePurchases';",
    );
    expect(text).toContain("from '../../../functions/handlers/operatorHandler';");
    expect(existsSync(entries.tickEntry)).toBe(true);
    expect(readFileSync(entries.tickEntry, 'utf8')).toContain('tickHandler(pipelineOfModule(');
  });

  it('when the pipeline reads a Kinesis stream and publishes nothing, its entries pass the Kinesis source part only', () => {
    const entries = pipelineEntries(MODULE);
    for (const entry of [entries.operatorEntry, entries.tickEntry]) {
      const text = readFileSync(entry, 'utf8');
      expect(text).toContain("import { kinesisSource } from '../../../functions/adapters/kinesisSource';");
      expect(text).toContain(', { source: kinesisSource });');
      expect(text).not.toMatch(/tableSource|kinesisPublisher/);
    }
  });

  it('when the pipeline reads a table, its entries pass the table source part', () => {
    const entries = pipelineEntries(join(ROOT, 'test/fixtures/pipelines/orderRevenue.ts'));
    for (const entry of [entries.operatorEntry, entries.tickEntry]) {
      const text = readFileSync(entry, 'utf8');
      expect(text).toContain("import { tableSource } from '../../../functions/adapters/tableSource';");
      expect(text).toContain(', { source: tableSource });');
      expect(text).not.toMatch(/kinesisSource|kinesisPublisher/);
    }
  });

  it('when the pipeline publishes to a stream, its entries pass the publisher part too', () => {
    const entries = pipelineEntries(join(ROOT, 'functions/pipelines/twoStages/cleanSessions.ts'));
    for (const entry of [entries.operatorEntry, entries.tickEntry]) {
      const text = readFileSync(entry, 'utf8');
      expect(text).toContain(
        "import { kinesisPublisher } from '../../../functions/adapters/kinesisPublisher';",
      );
      expect(text).toContain(', { source: kinesisSource, publisher: kinesisPublisher });');
    }
  });

  it('when a Kinesis pipeline publishes nothing, its operator bundle holds neither the table-stream codec nor the publisher', async () => {
    const { operatorEntry } = pipelineEntries(MODULE);
    const built = await build({
      entryPoints: [operatorEntry],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'cjs',
      external: [...BUNDLE_EXTERNALS],
      conditions: [BUNDLE_CONDITION],
      logLevel: 'error',
    });
    const inputs = Object.keys(built.metafile.inputs);
    expect(inputs).toEqual(
      expect.arrayContaining([expect.stringMatching(/adapters\/kinesisEventCodec\.ts$/)]),
    );
    expect(
      inputs.filter((input) =>
        /dynamoDBStreamEventCodec|tableStreamShards|tableSource|kinesisPublisher|KinesisStreamPutter/.test(
          input,
        ),
      ),
    ).toEqual([]);
    // Of streamPublisher.ts only the apply path's helpers: not the publisher (its refusal message, PutRecords).
    const text = built.outputFiles[0]!.text;
    expect(text).not.toContain('times; the batch is retried');
    expect(text).not.toContain('PutRecordsCommand');
  });

  it('when the module is missing, exports no pipeline or several, it says which and what to do', () => {
    expect(() => pipelineEntries('pipelines/nope.ts')).toThrow(PipelineModuleError);
    expect(() => pipelineEntries('pipelines/nope.ts')).toThrow(
      /Pipeline module pipelines\/nope.ts does not exist/,
    );
    expect(() => pipelineEntries(join(ROOT, 'test/fixtures/pipelines/specModule.ts'))).toThrow(
      /exports no pipeline: export default pipeline/,
    );
    expect(() => pipelineEntries(join(ROOT, 'test/fixtures/pipelines/twoPipelines.ts'))).toThrow(
      /exports 2 pipelines: make the one to run the default export/,
    );
  });
});
