import { TemplateResolver } from '../../../../localstack/deployer/TemplateResolver';
import { TemplateResolutionError } from '../../../../localstack/deployer/errors';
import { planDeployment } from '../../../../localstack/deployer/planDeployment';
import type { CfnTemplate } from '../../../../localstack/deployer/types';

const template: CfnTemplate = {
  Parameters: {
    Env: { Type: 'String', Default: 'dev' },
    BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/version' },
  },
  Conditions: {
    IsChina: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'cn-north-1'] },
    NotChina: { 'Fn::Not': [{ Condition: 'IsChina' }] },
  },
  Mappings: { Sizes: { dev: { Shards: 1 } } },
  Resources: {
    Stream: {
      Type: 'AWS::Kinesis::Stream',
      Properties: {
        Name: { 'Fn::Sub': '${AWS::StackName}-${Env}-events' },
        ShardCount: { 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Shards'] },
      },
    },
    Table: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] },
    },
    OnlyInChina: { Type: 'AWS::S3::Bucket', Condition: 'IsChina' },
    Topic: { Type: 'AWS::SNS::Topic' },
    Meta: { Type: 'AWS::CDK::Metadata' },
  },
};

describe('TemplateResolver', () => {
  const resolver = new TemplateResolver(template, {
    stackName: 'Shop',
    region: 'eu-west-1',
    tableStreamArns: {
      Table: 'arn:aws:dynamodb:eu-west-1:000000000000:table/t/stream/2026-12-06T16:40:00.123',
    },
  });

  it.each([
    ['Ref to a pseudo parameter', { Ref: 'AWS::AccountId' }, '000000000000'],
    ['Ref to a parameter default', { Ref: 'Env' }, 'dev'],
    ['Ref to a named stream', { Ref: 'Stream' }, 'Shop-dev-events'],
    [
      'GetAtt Arn',
      { 'Fn::GetAtt': ['Stream', 'Arn'] },
      'arn:aws:kinesis:eu-west-1:000000000000:stream/Shop-dev-events',
    ],
    [
      'GetAtt dotted form',
      { 'Fn::GetAtt': 'Table.StreamArn' },
      'arn:aws:dynamodb:eu-west-1:000000000000:table/t/stream/2026-12-06T16:40:00.123',
    ],
    ['Fn::Join', { 'Fn::Join': ['/', ['a', { Ref: 'AWS::Partition' }, 'b']] }, 'a/aws/b'],
    [
      'Fn::Sub with a resource attribute and a literal',
      { 'Fn::Sub': '${Stream.Arn}|${!Literal}' },
      'arn:aws:kinesis:eu-west-1:000000000000:stream/Shop-dev-events|${Literal}',
    ],
    [
      'Fn::Sub with variables',
      { 'Fn::Sub': ['${X}-${AWS::Region}', { X: { Ref: 'Env' } }] },
      'dev-eu-west-1',
    ],
    ['Fn::Select over Fn::Split', { 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] }, 'b'],
    ['Fn::If on a condition', { 'Fn::If': ['NotChina', 'yes', 'no'] }, 'yes'],
  ])('when resolving %s, it returns what CloudFormation would', (_name, value, expected) => {
    expect(resolver.resolve(value)).toEqual(expected);
  });

  it('when a property is AWS::NoValue, it drops the property', () => {
    expect(resolver.resolve({ A: 1, B: { 'Fn::If': ['IsChina', 2, { Ref: 'AWS::NoValue' }] } })).toEqual({
      A: 1,
    });
  });

  it('when an intrinsic is unknown, it throws a TemplateResolutionError naming it', () => {
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow(
      new TemplateResolutionError('Fn::ImportValue is not supported by the local deployer (at $)'),
    );
  });

  it('when planning, it skips resources whose condition is false and lists unknown types as unsupported', () => {
    const plan = planDeployment(template, { stackName: 'Shop' }, () => undefined);
    expect(plan.buckets).toEqual([]);
    expect(plan.streams[0]).toMatchObject({ name: 'Shop-dev-events', shardCount: 1 });
    expect(plan.unsupported).toEqual([{ logicalId: 'Topic', type: 'AWS::SNS::Topic' }]);
    expect(plan.ignored).toEqual([{ logicalId: 'Meta', type: 'AWS::CDK::Metadata' }]);
  });

  it('when an EventBridge Scheduler schedule targets a function, it exposes the tick with its rate and input', () => {
    const withSchedule: CfnTemplate = {
      Resources: {
        Tick: {
          Type: 'AWS::Lambda::Function',
          Properties: { Code: { S3Bucket: 'b', S3Key: 'k.zip' }, Handler: 'tick.handler' },
        },
        Every5: {
          Type: 'AWS::Scheduler::Schedule',
          Properties: {
            ScheduleExpression: 'rate(5 minutes)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: { 'Fn::GetAtt': ['Tick', 'Arn'] }, RoleArn: 'r', Input: '{"tick":true}' },
          },
        },
        Nightly: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ScheduleExpression: 'cron(0 3 * * ? *)',
            State: 'DISABLED',
            Targets: [{ Arn: { 'Fn::GetAtt': ['Tick', 'Arn'] }, Id: 't' }],
          },
        },
      },
    };
    const plan = planDeployment(withSchedule, { stackName: 'Shop' }, () => '/bundles/tick');
    const functionName = plan.functions[0]?.functionName;
    expect(plan.functions[0]).toMatchObject({ entryFile: '/bundles/tick/tick.js', exportName: 'handler' });
    expect(plan.schedules).toEqual([
      {
        logicalId: 'Every5',
        expression: 'rate(5 minutes)',
        rateMs: 300_000,
        functionName,
        input: '{"tick":true}',
        enabled: true,
      },
      { logicalId: 'Nightly', expression: 'cron(0 3 * * ? *)', functionName, enabled: false },
    ]);
  });
});
