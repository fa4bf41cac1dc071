import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { ColumnType } from '../../../functions/core/types';
import { AthenaWorkgroup } from '../../../lib/constructs/AthenaWorkgroup';
import { GlueCatalog } from '../../../lib/constructs/GlueCatalog';
import { IngestStream } from '../../../lib/constructs/IngestStream';
import { ResultsBucket } from '../../../lib/constructs/ResultsBucket';
import { GLUE_COLUMN_TYPES, glueColumn, ResultTable } from '../../../lib/constructs/ResultTable';
import { StateTable } from '../../../lib/constructs/StateTable';
import { ValidationError } from '../../../lib/errors';

const newStack = (): Stack =>
  new Stack(new App(), 'S', { env: { account: '123456789012', region: 'eu-west-1' } });

describe('IngestStream', () => {
  it('when given a retention and DESTROY, it sets both on the stream', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new IngestStream(stack, 'In', {
      streamName: 'events',
      retentionPeriod: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Kinesis::Stream', { Name: 'events', RetentionPeriodHours: 168 });
    template.hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });

  it('when used alone with bad props, it throws one ValidationError naming the construct path', () => {
    const stack = newStack();
    expect(() => new IngestStream(stack, 'In', { streamName: '', shardCount: 1.5 })).toThrow(
      new ValidationError("IngestStream 'S/In'", [
        "Stream name must be 1-128 characters from [a-zA-Z0-9_.-], starting with a letter or digit (given '')",
        'Shard count must be between 1 and 10000 inclusive (given 1.5)',
      ]),
    );
  });
});

describe('StateTable', () => {
  it('when given a customer-managed key, it encrypts the table with that key', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new StateTable(stack, 'State', { encryptionKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      },
    });
  });
});

describe('ResultsBucket', () => {
  it('when access logs are off, it creates one bucket and acknowledges S1 with a reason', () => {
    const stack = newStack();
    new ResultsBucket(stack, 'Results', { serverAccessLogs: false, versioned: true, lateExpirationDays: 3 });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.absent(),
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'late/', ExpirationInDays: 3 }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
        ]),
      },
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('when access logs are on, the log bucket is encrypted, private and TLS-only too', () => {
    const stack = newStack();
    const results = new ResultsBucket(stack, 'Results');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    const logId = stack.getLogicalId(results.accessLogBucket!.node.defaultChild as never);
    expect(template.toJSON().Resources[logId].Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(template.toJSON().Resources[logId].Properties.AccessControl).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
          }),
        ]),
      },
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});

describe('ResultTable', () => {
  it('when mapping column types, json becomes string and the others keep their Hive name', () => {
    const types: ColumnType[] = ['string', 'bigint', 'double', 'boolean', 'timestamp', 'json'];
    expect(types.map((type) => glueColumn({ name: 'c', type }).type)).toEqual([
      'string',
      'bigint',
      'double',
      'boolean',
      'timestamp',
      'string',
    ]);
    expect(Object.keys(GLUE_COLUMN_TYPES).sort()).toEqual([...types].sort());
  });

  it('when given a first day, the dt projection range starts there', () => {
    const stack = newStack();
    const catalog = new GlueCatalog(stack, 'Catalog', { databaseName: 'analytics' });
    const results = new ResultsBucket(stack, 'Results', { serverAccessLogs: false });
    const table = new ResultTable(stack, 'Table', {
      catalog,
      bucket: results.bucket,
      tableName: 't',
      columns: [{ name: 'n', type: 'bigint' }],
      firstDay: '2024-06-01',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: 'analytics',
      TableInput: Match.objectLike({
        Parameters: Match.objectLike({ 'projection.dt.range': '2024-06-01,NOW+1DAYS' }),
      }),
    });
    // The table is created after its database.
    expect(template.toJSON().Resources[stack.getLogicalId(table.table)].DependsOn).toEqual([
      stack.getLogicalId(catalog.database),
    ]);
  });
});

describe('AthenaWorkgroup', () => {
  it('when given a name and scan limit, the workgroup uses them', () => {
    const stack = newStack();
    const results = new ResultsBucket(stack, 'Results', { serverAccessLogs: false });
    new AthenaWorkgroup(stack, 'Athena', {
      bucket: results.bucket,
      databaseName: 'db',
      workgroupName: 'team-a',
      bytesScannedCutoffPerQuery: 50_000_000,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'team-a',
      WorkGroupConfiguration: Match.objectLike({
        BytesScannedCutoffPerQuery: 50_000_000,
        EnforceWorkGroupConfiguration: true,
      }),
    });
  });
});
