import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStackArtifact } from '../../../../localstack/deployer/cloudAssembly';
import { planDeployment } from '../../../../localstack/deployer/planDeployment';
import type { CfnTemplate } from '../../../../localstack/deployer/types';

const stream = { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 1 } };
const mapping = (fn: string) => ({
  Type: 'AWS::Lambda::EventSourceMapping',
  Properties: {
    FunctionName: { Ref: fn },
    EventSourceArn: { 'Fn::GetAtt': ['Stream', 'Arn'] },
    StartingPosition: 'LATEST',
  },
});

describe('readStackArtifact', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'assembly-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function write(template: CfnTemplate, extra: Record<string, unknown> = {}): string {
    for (const [file, content] of Object.entries(extra))
      writeFileSync(join(dir, file), JSON.stringify(content));
    const path = join(dir, 'App.template.json');
    writeFileSync(path, JSON.stringify(template));
    return path;
  }

  it('when the manifest names the stack, it uses that name and finds bundles through the assets manifest', () => {
    mkdirSync(join(dir, 'asset.abc'));
    writeFileSync(join(dir, 'asset.abc', 'main.mjs'), 'export const run = async () => 1;');
    const path = write(
      {
        Resources: {
          Stream: stream,
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: { Code: { S3Bucket: 'b', S3Key: 'abc.zip' }, Handler: 'main.run' },
          },
          Map: mapping('Fn'),
        },
      },
      {
        'manifest.json': {
          artifacts: { App: { properties: { templateFile: 'App.template.json', stackName: 'shop-prod' } } },
        },
        'App.assets.json': {
          files: {
            abc: {
              source: { path: 'asset.abc', packaging: 'zip' },
              destinations: { d: { objectKey: 'abc.zip' } },
            },
          },
        },
      },
    );
    const artifact = readStackArtifact(path);
    const plan = planDeployment(artifact.template, { stackName: artifact.stackName }, artifact.locateAsset);
    expect(artifact.stackName).toBe('shop-prod');
    expect(plan.functions[0]).toMatchObject({
      entryFile: join(dir, 'asset.abc', 'main.mjs'),
      exportName: 'run',
    });
    expect(plan.functions[0]?.functionName).toMatch(/^shop-prod-Fn-/);
    expect(plan.mappings).toHaveLength(1);
  });

  it('when a function has inline code, it writes it out as a one-file bundle', () => {
    const path = write({
      Resources: {
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { Code: { ZipFile: 'exports.handler = async () => 42;' }, Handler: 'index.handler' },
        },
      },
    });
    const artifact = readStackArtifact(path);
    const plan = planDeployment(artifact.template, { stackName: 'App' }, artifact.locateAsset);
    expect(readFileSync(plan.functions[0]?.entryFile ?? '', 'utf8')).toBe(
      'exports.handler = async () => 42;',
    );
  });

  it('when a function has no local bundle, it lists it and its mappings as unsupported and keeps the rest', () => {
    const path = write({
      Resources: {
        Stream: stream,
        Image: {
          Type: 'AWS::Lambda::Function',
          Properties: { Code: { ImageUri: 'repo:tag' }, PackageType: 'Image' },
        },
        Map: mapping('Image'),
      },
    });
    const artifact = readStackArtifact(path);
    const plan = planDeployment(artifact.template, { stackName: 'App' }, artifact.locateAsset);
    expect(plan.functions).toEqual([]);
    expect(plan.mappings).toEqual([]);
    expect(plan.streams).toHaveLength(1);
    expect(plan.unsupported.map((u) => [u.logicalId, u.type])).toEqual([
      ['Image', 'AWS::Lambda::Function'],
      ['Map', 'AWS::Lambda::EventSourceMapping'],
    ]);
  });
});
