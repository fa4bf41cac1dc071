/**
 * Several `ShardflowPipeline`s in a user's app: in one stack and across stacks, sharing what they are given,
 * without two resources of one physical name and without one pipeline's grants or objects reaching another's.
 */
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { PipelineSpec } from '../../../functions/core/types';
import { AthenaWorkgroup } from '../../../lib/constructs/AthenaWorkgroup';
import { GlueCatalog } from '../../../lib/constructs/GlueCatalog';
import { ShardflowPipeline } from '../../../lib/constructs/ShardflowPipeline';
import { FIXTURE_ENTRIES, fixtureShape, pipelineSpec, sessionSpec } from '../helpers';

const ROOT = path.join(__dirname, '../../..');
const ENV = { account: '123456789012', region: 'eu-west-1' };

/** Fixture handlers for `spec` (prebuilt, so nothing is bundled). */
const handlers = (spec: PipelineSpec) => ({
  spec,
  stateShape: fixtureShape(spec),
  ...FIXTURE_ENTRIES,
  projectRoot: ROOT,
});
const newApp = (): App => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resourcesOf = (template: Template, type: string): Resources =>
  template.findResources(type) as Resources;

describe('several ShardflowPipelines in one stack', () => {
  it('when the stack has one pipeline (all a stack could deploy before they shared), its Glue database and Athena workgroup keep their logical ids, so an upgraded cdk deploy does not create a second "shardflow" of each (AlreadyExists)', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    new ShardflowPipeline(stack, 'Flights', { handlers: handlers(pipelineSpec()) });
    const template = Template.fromStack(stack);
    // The ids of a pipeline's own `Catalog/Database` and `Athena/WorkGroup` in deployed stacks.
    expect(Object.keys(resourcesOf(template, 'AWS::Glue::Database'))).toEqual([
      'FlightsCatalogDatabase362AD69E',
    ]);
    expect(Object.keys(resourcesOf(template, 'AWS::Athena::WorkGroup'))).toEqual([
      'FlightsAthenaWorkGroupAA2D7FE6',
    ]);
  });

  it('when none is given a catalog or workgroup, they share one Glue database and one Athena workgroup (their names are fixed), each query over its own table', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    new ShardflowPipeline(stack, 'Flights', { handlers: handlers(pipelineSpec()) });
    new ShardflowPipeline(stack, 'Sessions', { handlers: handlers(sessionSpec()) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.resourceCountIs('AWS::Athena::WorkGroup', 1);
    const tables = Object.values(resourcesOf(template, 'AWS::Glue::Table')).map(
      (t) => t.Properties as { DatabaseName: string; TableInput: { Name: string } },
    );
    expect(tables.map((t) => [t.DatabaseName, t.TableInput.Name]).sort()).toEqual([
      ['shardflow', 'delays_by_origin_hourly'],
      ['shardflow', 'sessions'],
    ]);
    template.resourceCountIs('AWS::Athena::NamedQuery', 4);
  });

  it('when one is given its own catalog, its sample queries run in that database, not the shared workgroup’s', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    new ShardflowPipeline(stack, 'Flights', { handlers: handlers(pipelineSpec()) });
    const catalog = new GlueCatalog(stack, 'Analytics', { databaseName: 'analytics' });
    new ShardflowPipeline(stack, 'Sessions', { handlers: handlers(sessionSpec()), catalog });
    const queries = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Athena::NamedQuery'))
      .map((q) => q.Properties as { Database: string; QueryString: string; WorkGroup: string })
      .filter((q) => q.QueryString.includes('"sessions"'));
    expect(queries).toHaveLength(2);
    for (const query of queries) {
      expect(query.Database).toBe('analytics');
      expect(query.QueryString).toContain('"analytics"."sessions"');
      expect(query.WorkGroup).toBe('shardflow');
    }
  });
});

describe('ShardflowPipelines sharing a state table, results bucket or Glue database', () => {
  /** `spec` under another pipeline name, its sink table other too unless `same` keeps it. */
  const renamed = (spec: PipelineSpec, name: string, same: { table?: boolean } = {}): PipelineSpec => ({
    ...spec,
    name,
    ...(same.table === true ? {} : { sink: { table: `${name.replace(/-/g, '_')}_table` } }),
  });

  it('when two read the same stream into one results bucket, synth fails naming both: their side outputs would mix and each sweep would delete the other’s', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const first = new ShardflowPipeline(stack, 'Flights', {
      handlers: handlers(pipelineSpec()),
      analytics: false,
    });
    expect(
      () =>
        new ShardflowPipeline(stack, 'Other', {
          handlers: handlers(renamed(pipelineSpec(), 'other-delays')),
          stream: first.stream!,
          resultsBucket: first.resultsBucket,
          analytics: false,
        }),
    ).toThrow(
      "ShardflowPipeline 'User/Other': 'User/Flights' also reads 'flights' and shares results bucket User/Flights/Results",
    );
    // Each with its own bucket, they may read one stream.
    new ShardflowPipeline(stack, 'Apart', {
      handlers: handlers(renamed(pipelineSpec(), 'apart-delays')),
      stream: first.stream!,
      stateTable: first.stateTable,
      analytics: false,
    });
  });

  it('when two write the same result table, to one bucket or into one Glue database, synth fails', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const first = new ShardflowPipeline(stack, 'Flights', { handlers: handlers(pipelineSpec()) });
    const sameTable = { ...renamed(sessionSpec(), 'other'), sink: { table: 'delays_by_origin_hourly' } };
    expect(
      () =>
        new ShardflowPipeline(stack, 'Other', {
          handlers: handlers(sameTable),
          resultsBucket: first.resultsBucket,
          analytics: false,
        }),
    ).toThrow("also writes result table 'delays_by_origin_hourly' to results bucket User/Flights/Results");
    expect(() => new ShardflowPipeline(stack, 'Elsewhere', { handlers: handlers(sameTable) })).toThrow(
      "Glue database 'shardflow' already has table 'delays_by_origin_hourly' (User/Flights/Table)",
    );
  });

  it('when a pipeline of the same name shares a state table from another stack, synth fails: they would share its partitions', () => {
    const app = newApp();
    const first = new ShardflowPipeline(new Stack(app, 'Blue', { env: ENV }), 'Flights', {
      handlers: handlers(pipelineSpec()),
      analytics: false,
    });
    expect(
      () =>
        new ShardflowPipeline(new Stack(app, 'Green', { env: ENV }), 'Flights', {
          handlers: handlers(pipelineSpec()),
          stateTable: first.stateTable,
          analytics: false,
        }),
    ).toThrow(
      "pipeline 'flight-delays' is already deployed by 'Blue/Flights' with state table Blue/Flights/State",
    );
  });

  it('when the same pipeline in two regions, or in two environment-agnostic stacks, is given a table of one name in each, synth passes: a table name is per account and region', () => {
    const app = newApp();
    const given = (stack: Stack) => ({
      handlers: handlers(pipelineSpec()),
      stateTable: dynamodb.Table.fromTableName(stack, 'Mine', 'user-state'),
      analytics: false,
    });
    for (const stack of [
      new Stack(app, 'Ireland', { env: ENV }),
      new Stack(app, 'Frankfurt', { env: { ...ENV, region: 'eu-central-1' } }),
      new Stack(app, 'Dev'),
      new Stack(app, 'Prod'),
    ])
      new ShardflowPipeline(stack, 'Flights', given(stack));
    expect(app.synth().stacks).toHaveLength(4);
    // In one account and region it is one table: refused as for a shared StateTable.
    const again = new Stack(app, 'IrelandAgain', { env: ENV });
    expect(() => new ShardflowPipeline(again, 'Flights', given(again))).toThrow(
      "pipeline 'flight-delays' is already deployed by 'Ireland/Flights' with state table user-state",
    );
  });
});

describe('ShardflowPipelines across stacks', () => {
  it('when a pipeline is given another stack’s Glue database and Athena workgroup, the app synthesizes, its table and sample queries in its own stack', () => {
    const app = newApp();
    const ingest = new Stack(app, 'Ingest', { env: ENV });
    const flights = new ShardflowPipeline(ingest, 'Flights', { handlers: handlers(pipelineSpec()) });
    const sessions = new Stack(app, 'Sessions', { env: ENV });
    new ShardflowPipeline(sessions, 'Sessions', {
      handlers: handlers(sessionSpec()),
      catalog: flights.catalog!,
      athena: flights.athena!,
    });
    const assembly = app.synth();
    expect(assembly.getStackByName('Sessions').dependencies.map((d) => d.id)).toContain('Ingest');
    expect(assembly.getStackByName('Ingest').dependencies.map((d) => d.id)).not.toContain('Sessions');
    const template = Template.fromStack(sessions);
    template.resourceCountIs('AWS::Glue::Database', 0);
    template.resourceCountIs('AWS::Athena::WorkGroup', 0);
    template.resourceCountIs('AWS::Glue::Table', 1);
    template.resourceCountIs('AWS::Athena::NamedQuery', 2);
    Template.fromStack(ingest).resourceCountIs('AWS::Athena::NamedQuery', 2);
  });
});

describe('ShardflowPipelines whose resources have fixed names, in one account and region', () => {
  it('when two stacks of one environment each create the default Glue database, synth fails saying to share it (as the across-stacks test does)', () => {
    const app = newApp();
    const first = new Stack(app, 'Ingest', { env: ENV });
    new ShardflowPipeline(first, 'Flights', { handlers: handlers(pipelineSpec()) });
    const second = new Stack(app, 'Sessions', { env: ENV });
    expect(() => new ShardflowPipeline(second, 'Sessions', { handlers: handlers(sessionSpec()) })).toThrow(
      "GlueCatalog 'Sessions/Sessions/Catalog': Ingest/Flights/Catalog already creates Glue database 'shardflow' in this account and region",
    );
  });

  it('when another region’s stack creates its own, synth passes', () => {
    const app = newApp();
    new ShardflowPipeline(new Stack(app, 'Ireland', { env: ENV }), 'Flights', {
      handlers: handlers(pipelineSpec()),
    });
    new ShardflowPipeline(
      new Stack(app, 'Frankfurt', { env: { ...ENV, region: 'eu-central-1' } }),
      'Flights',
      {
        handlers: handlers(pipelineSpec()),
      },
    );
    expect(app.synth().stacks).toHaveLength(2);
  });

  it('when two environment-agnostic stacks each create their own, synth passes (they may deploy to different accounts); within one such stack a second fails', () => {
    const app = newApp();
    new ShardflowPipeline(new Stack(app, 'Dev'), 'Flights', { handlers: handlers(pipelineSpec()) });
    const prod = new Stack(app, 'Prod');
    new ShardflowPipeline(prod, 'Flights', { handlers: handlers(pipelineSpec()) });
    expect(app.synth().stacks).toHaveLength(2);
    expect(
      () =>
        new ShardflowPipeline(prod, 'Other', {
          handlers: handlers({ ...pipelineSpec(), name: 'other', sink: { table: 'other' } }),
        }),
    ).toThrow("IngestStream 'Prod/Other/Stream': Prod/Flights/Stream already creates stream 'flights'");
  });

  it('when two pipelines of one stack read the same stream name and neither is given it, synth fails saying to give it (it created two streams of one name)', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    new ShardflowPipeline(stack, 'Flights', { handlers: handlers(pipelineSpec()), analytics: false });
    expect(
      () =>
        new ShardflowPipeline(stack, 'Other', {
          handlers: handlers({ ...pipelineSpec(), name: 'other', sink: { table: 'other' } }),
          analytics: false,
        }),
    ).toThrow(
      "IngestStream 'User/Other/Stream': User/Flights/Stream already creates stream 'flights' in this account and region. Give that stream to the pipeline",
    );
  });

  it('when the same pipeline is deployed by two stacks of one environment, synth fails: its alarm names are fixed', () => {
    const app = newApp();
    const blue = new ShardflowPipeline(new Stack(app, 'Blue', { env: ENV }), 'Flights', {
      handlers: handlers(pipelineSpec()),
      analytics: false,
    });
    expect(
      () =>
        new ShardflowPipeline(new Stack(app, 'Green', { env: ENV }), 'Flights', {
          handlers: handlers(pipelineSpec()),
          stream: blue.stream!,
          analytics: false,
        }),
    ).toThrow(
      "PipelineAlarms 'Green/Flights/Alarms': Blue/Flights/Alarms already creates the alarms of pipeline 'flight-delays'",
    );
  });
});

describe('a ShardflowPipeline given a stream whose name is known only at deploy', () => {
  it('grants its side outputs under the source name its handlers write them under, not the stream’s deployed name', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    // No streamName: CloudFormation names it; the handlers still write clean/flights/ and rejected/flights/.
    const stream = new kinesis.Stream(stack, 'Mine', { encryption: kinesis.StreamEncryption.MANAGED });
    const built = new ShardflowPipeline(stack, 'Flights', {
      handlers: handlers(pipelineSpec()),
      stream,
      analytics: false,
    });
    const bucket = stack.resolve(built.resultsBucket.bucket.bucketArn);
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [bucket, `/${prefix}*`]] });
    const template = Template.fromStack(stack);
    for (const [fn, actions] of [
      [built.operator.function, ['s3:PutObject', 's3:DeleteObject']],
      [built.tick.function, 's3:DeleteObject'],
    ] as const) {
      const role = stack.resolve((fn.role as iam.Role).roleName);
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [role],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: actions,
              Resource: [
                objects('clean/flights/'),
                objects('rejected/flights/'),
                objects('late/delays_by_origin_hourly/'),
              ],
            }),
            Match.objectLike({
              Action: 's3:ListBucket',
              Condition: {
                StringLike: {
                  's3:prefix': ['clean/flights/*', 'rejected/flights/*', 'late/delays_by_origin_hourly/*'],
                },
              },
            }),
          ]),
        },
      });
    }
  });
});

describe('a ShardflowPipeline given the user’s own bucket and table', () => {
  /** The statements of the policies of `fn`'s role. */
  const statementsOf = (template: Template, stack: Stack, fn: ShardflowPipeline['operator']['function']) => {
    const role = stack.resolve((fn.role as iam.Role).roleName) as unknown;
    return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([role]))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: unknown[] }).Statement);
  };

  it('when given an s3.Bucket and a dynamodb.Table of the app, it creates neither, keeps its grants to them, and adds nothing to them', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Lake', { enforceSSL: true, bucketName: 'user-lake' });
    const table = new dynamodb.Table(stack, 'Mine', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'ttl',
    });
    const built = new ShardflowPipeline(stack, 'Flights', {
      handlers: handlers(pipelineSpec()),
      resultsBucket: bucket,
      stateTable: table,
      analytics: false,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(built.resultsBucket.bucket).toBe(bucket);
    expect(built.stateTable.table).toBe(table);
    const statements = JSON.stringify(statementsOf(template, stack, built.operator.function));
    expect(statements).toContain(
      `"${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}","Arn"]},"/results/delays_by_origin_hourly/*"`,
    );
    expect(statements).toContain('"dynamodb:LeadingKeys":["P#flight-delays","C#flight-delays#*"]');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SHARDFLOW_RESULTS_BUCKET: { Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) },
          SHARDFLOW_STATE_TABLE: { Ref: stack.getLogicalId(table.node.defaultChild as dynamodb.CfnTable) },
        }),
      },
    });
    // Its lifecycle is the owner's: none added.
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: Match.absent() });
  });

  it('when given imported ones (fromBucketName, fromTableName), its grants name them', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const built = new ShardflowPipeline(stack, 'Flights', {
      handlers: handlers(pipelineSpec()),
      resultsBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'user-lake'),
      stateTable: dynamodb.Table.fromTableName(stack, 'Mine', 'user-state'),
      analytics: false,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    const statements = JSON.stringify(statementsOf(template, stack, built.tick.function));
    expect(statements).toContain(':s3:::user-lake/clean/flights/*');
    expect(statements).toContain(':table/user-state');
    expect(new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('when two pipelines reading one stream are given two imports of one bucket, synth fails as for one shared bucket', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const first = new ShardflowPipeline(stack, 'Flights', {
      handlers: handlers(pipelineSpec()),
      resultsBucket: s3.Bucket.fromBucketName(stack, 'Lake', 'user-lake'),
      analytics: false,
    });
    expect(
      () =>
        new ShardflowPipeline(stack, 'Other', {
          handlers: handlers({ ...pipelineSpec(), name: 'other', sink: { table: 'other' } }),
          stream: first.stream!,
          resultsBucket: s3.Bucket.fromBucketName(stack, 'LakeAgain', 'user-lake'),
          analytics: false,
        }),
    ).toThrow("'User/Flights' also reads 'flights' and shares results bucket user-lake");
  });

  it('when the given table has another key, or the given bucket allows requests without TLS, synth fails saying so', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const table = new dynamodb.Table(stack, 'Mine', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    });
    expect(
      () =>
        new ShardflowPipeline(stack, 'Flights', { handlers: handlers(pipelineSpec()), stateTable: table }),
    ).toThrow("The given table's key must be pk (S, HASH), sk (S, RANGE) (given id (S, HASH))");
    const noTtl = new dynamodb.Table(stack, 'NoTtl', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    });
    expect(
      () => new ShardflowPipeline(stack, 'Ttl', { handlers: handlers(pipelineSpec()), stateTable: noTtl }),
    ).toThrow("The given table must expire items by TTL on 'ttl'");
    const bucket = new s3.Bucket(stack, 'Open', {});
    expect(
      () =>
        new ShardflowPipeline(stack, 'Again', { handlers: handlers(pipelineSpec()), resultsBucket: bucket }),
    ).toThrow('The given bucket must refuse requests without TLS: create it with enforceSSL: true');
  });
});

describe('a ShardflowPipeline given a bucket encrypted with a KMS key', () => {
  it('lets each function that puts objects there generate data keys of that key (S3 refuses a put under SSE-KMS without kms:GenerateDataKey)', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Lake', { enforceSSL: true, encryption: s3.BucketEncryption.KMS });
    const built = new ShardflowPipeline(stack, 'Flights', {
      handlers: handlers(pipelineSpec()),
      resultsBucket: bucket,
      analytics: false,
    });
    const key = stack.resolve(bucket.encryptionKey!.keyArn) as unknown;
    const template = Template.fromStack(stack);
    for (const fn of [built.operator.function, built.tick.function]) {
      const role = stack.resolve((fn.role as iam.Role).roleName) as unknown;
      const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([role]))
        .flatMap(
          (p) =>
            (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
              .Statement,
        );
      expect(statements).toContainEqual(
        expect.objectContaining({ Action: 'kms:GenerateDataKey', Resource: key }),
      );
    }
  });
});

describe('sample queries of one result table in a second workgroup', () => {
  it('when another workgroup adds sample queries for a pipeline’s table, it gets its own (as before they moved under the table)', () => {
    const stack = new Stack(newApp(), 'User', { env: ENV });
    const built = new ShardflowPipeline(stack, 'Flights', { handlers: handlers(pipelineSpec()) });
    const team = new AthenaWorkgroup(stack, 'Team', {
      bucket: built.resultsBucket.bucket,
      databaseName: 'shardflow',
      workgroupName: 'team',
    });
    expect(team.addSampleQueries(built.resultTable!)).toHaveLength(2);
    const workgroups = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Athena::NamedQuery')).map(
      (q) => (q.Properties as { WorkGroup: string }).WorkGroup,
    );
    expect(workgroups.sort()).toEqual(['shardflow', 'shardflow', 'team', 'team']);
  });
});
