/**
 * Least privilege, alarms and the results table of pipelines sharing the state table and results bucket: each
 * function may make exactly the calls its code makes, on its own pipeline's items and prefixes; the alarms
 * can fire in the situations they are for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ShardflowPipeline } from '../../../lib/constructs/ShardflowPipeline';
import { buildStack, deployed, FIXTURE_ENTRIES, fixtureShape, pipelineSpec, sessionSpec } from '../helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation properties, read loosely
type Resource = { Type: string; Properties: Record<string, any> };
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function resources(template: Template): Record<string, Resource> {
  return template.toJSON().Resources as Record<string, Resource>;
}

/** Logical id of the function with `description`. */
function functionId(template: Template, description: string): string {
  const ids = Object.entries(resources(template))
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === description)
    .map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** Role logical id of the function with `description`. */
function roleOf(template: Template, description: string): string {
  const fn = resources(template)[functionId(template, description)]!;
  return (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** Every statement of the policies attached to the role of the function with `description`. */
function statementsOf(template: Template, description: string): Statement[] {
  const role = roleOf(template, description);
  return Object.values(resources(template))
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]),
    )
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
}

// One stack, two pipelines sharing the state table and results bucket (unbundled: the template is all we read).
let shared: Template;
beforeAll(() => {
  shared = Template.fromStack(
    buildStack({ pipelines: [deployed(pipelineSpec()), deployed(sessionSpec())] }, 'Review', {
      bundle: false,
    }),
  );
});

const OPERATOR = 'shardflow operator of pipeline flight-delays';
const TICK = 'shardflow tick of pipeline flight-delays';

describe('state table access', () => {
  it("grants the operator every DynamoDB call DynamoDBStateStore sends (deleteSegment's DeleteItem included)", () => {
    const source = fs.readFileSync(
      path.join(__dirname, '../../../functions/adapters/DynamoDBStateStore.ts'),
      'utf8',
    );
    // Transactions are authorized per action inside them (Put -> PutItem, ConditionCheck -> ConditionCheckItem).
    const needed = [...new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!))]
      .filter((c) => !c.startsWith('Transact'))
      .map((c) => `dynamodb:${c}`)
      .sort();
    const stateTable = Object.keys(resources(shared)).find((id) => id.startsWith('StateTable'))!;
    const granted = statementsOf(shared, OPERATOR)
      .filter((s) => JSON.stringify(s.Resource).includes(stateTable))
      .flatMap((s) => asArray(s.Action));
    expect(needed.filter((a) => !granted.includes(a))).toEqual([]);
  });

  it("limits each pipeline's operator and tick to their own partitions (P#<pipeline>, C#<pipeline>#…) of the shared table", () => {
    const stateTable = Object.keys(resources(shared)).find((id) => id.startsWith('StateTable'))!;
    for (const description of [OPERATOR, TICK]) {
      const onTable = statementsOf(shared, description).filter(
        (s) =>
          JSON.stringify(s.Resource).includes(stateTable) &&
          asArray(s.Action).some((a) => a.startsWith('dynamodb:')),
      );
      expect(onTable.length).toBeGreaterThan(0);
      for (const s of onTable) {
        const keys = Object.values(s.Condition ?? {}).flatMap((c) =>
          asArray(c['dynamodb:LeadingKeys'] as string[] | undefined),
        );
        // Without a LeadingKeys condition the operator of flight-delays may read and overwrite the progress
        // and segments of user-sessions (P#user-sessions, C#user-sessions#…).
        expect({ description, actions: s.Action, leadingKeys: keys }).toEqual({
          description,
          actions: s.Action,
          leadingKeys: expect.arrayContaining([expect.stringMatching(/^[PC]#flight-delays/)]),
        });
      }
    }
  });
});

describe('alarms', () => {
  it("alarm on the tick function's errors (the tick closes the windows of idle shards)", () => {
    const tick = functionId(shared, TICK);
    const onTick = Object.values(resources(shared)).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties.MetricName === 'Errors' &&
        JSON.stringify(r.Properties.Dimensions ?? []).includes(tick),
    );
    expect(onTick).toHaveLength(1);
  });

  it('the rejected-rate alarm fires when every record the operator read was rejected, while the producer paused', () => {
    const alarm = Object.values(resources(shared)).find(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties.AlarmName === 'shardflow-flight-delays-rejected-rate',
    )!;
    const metrics = alarm.Properties.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string; Namespace: string } };
    }[];
    // One 5-minute period: the operator drains a backlog (iterator age > 5 min, e.g. after a deploy with
    // TRIM_HORIZON or an outage) of 500 records, all rejected; nothing is put to the stream meanwhile.
    const datapoint: Record<string, number | undefined> = {
      RecordsIn: 500,
      RejectedRecords: 500,
      IncomingRecords: 0,
    };
    const values: Record<string, number | undefined> = {};
    for (const m of metrics)
      if (m.MetricStat !== undefined) {
        const name = m.MetricStat.Metric.MetricName;
        // The tick reads no records: its counts have no data.
        values[m.Id] = m.Id.endsWith('tick') ? undefined : datapoint[name];
      }
    const expression = metrics.find((m) => m.Expression !== undefined)!.Expression!;
    const IF = (c: boolean, a: number, b: number): number => (c ? a : b);
    const FILL = (v: number | undefined, d: number): number => (v === undefined ? d : v);
    const value = new Function('IF', 'FILL', ...Object.keys(values), `return ${expression};`)(
      IF,
      FILL,
      ...Object.values(values),
    ) as number;
    expect(value).toBeGreaterThan(alarm.Properties.Threshold as number);
  });
});

describe('roles and cdk-nag acknowledgements', () => {
  it('the shardflow functions do not carry AWSLambdaBasicExecutionRole (logs:* on every log group) when each has its own log group', () => {
    for (const description of [OPERATOR, TICK, 'shardflow upgrade check of pipeline flight-delays']) {
      const role = resources(shared)[roleOf(shared, description)]!;
      expect({ description, managed: JSON.stringify(role.Properties.ManagedPolicyArns ?? []) }).toEqual({
        description,
        managed: expect.not.stringContaining('AWSLambdaBasicExecutionRole'),
      });
    }
  });
});

describe('results table', () => {
  it("projects partitions back to the earliest window start a record can open (a sliding window's before 2000-01-01)", () => {
    const sliding = pipelineSpec({
      name: 'sliding-delays',
      window: { kind: 'sliding', sizeMs: 3_600_000, slideMs: 900_000 },
      sink: { table: 'sliding_delays' },
    });
    const template = Template.fromStack(
      buildStack({ pipelines: [deployed(sliding)] }, 'Sliding', { bundle: false }),
    );
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'sliding_delays',
        Parameters: Match.objectLike({ 'projection.dt.range': '1999-12-31,NOW+1DAYS' }),
      }),
    });
  });
});

describe('event source mapping settings', () => {
  it('exposes filterEncryption (the key of the filter criteria) like the other settings', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'FilterKey', { enableKeyRotation: true });
    new ShardflowPipeline(stack, 'Flights', {
      handlers: {
        spec: pipelineSpec(),
        stateShape: fixtureShape(pipelineSpec()),
        ...FIXTURE_ENTRIES,
        projectRoot: process.cwd(),
      },
      analytics: false,
      eventSource: {
        filters: [lambda.FilterCriteria.filter({ data: { kind: lambda.FilterRule.isEqual('flight') } })],
        filterEncryption: key,
      } as never,
    });
    // CloudFormation's KmsKeyArn of a mapping is the key of its filter criteria.
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FilterCriteria: Match.objectLike({ Filters: Match.anyValue() }),
      KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FilterKey'), 'Arn'] },
    });
  });
});

function newStack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'User', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
}
