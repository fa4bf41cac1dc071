import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { STATE_SHAPE_VERSION, type StateShape } from '../../functions/core/state/stateFingerprint';
import type { ColumnSpec, PipelineSpec } from '../../functions/core/types';
import { ShardflowStack, type ShardflowStackProps } from '../../lib/stacks/ShardflowStack';

/** Fixture handler entries: tiny, so bundling stays fast and tests do not need the real handlers. */
export const FIXTURE_ENTRIES = {
  operatorEntry: path.join(__dirname, 'fixtures', 'operator.ts'),
  tickEntry: path.join(__dirname, 'fixtures', 'tick.ts'),
} as const;

const DEFAULT_COLUMNS: readonly ColumnSpec[] = [
  { name: 'origin', type: 'string', comment: 'Airport of departure' },
  { name: 'window_start', type: 'timestamp' },
  { name: 'window_end', type: 'timestamp' },
  { name: 'flights', type: 'bigint' },
  { name: 'avg_delay', type: 'double' },
  { name: 'p95_delay', type: 'double' },
];

/** A tumbling-window pipeline spec, with any field overridden. */
export function pipelineSpec(overrides: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    name: 'flight-delays',
    source: { stream: 'flights', shards: 2 },
    window: { kind: 'tumbling', sizeMs: 3_600_000 },
    time: {
      allowedLatenessMs: 600_000,
      maxOutOfOrdernessMs: 300_000,
      idleTimeoutMs: 60_000,
      maxEventTimeAheadMs: 300_000,
    },
    sink: { table: 'delays_by_origin_hourly' },
    columns: DEFAULT_COLUMNS,
    errorBounds: { p95_delay: 'relative error <= 1%' },
    ...overrides,
  };
}

/** A publish-only spec (`… .toStream(stream)`): no window, no sink, no columns. */
export function publishOnlySpec(name: string, source: string, publish: string): PipelineSpec {
  return {
    name,
    source: { stream: source },
    time: {
      allowedLatenessMs: 0,
      maxOutOfOrdernessMs: 0,
      idleTimeoutMs: 60_000,
      maxEventTimeAheadMs: 300_000,
    },
    publish: { stream: publish },
    columns: [],
    errorBounds: {},
  };
}

/** A second, different spec: session windows, on-demand stream, other column types. */
export function sessionSpec(): PipelineSpec {
  return {
    name: 'user-sessions',
    source: { stream: 'clicks' },
    window: { kind: 'session', gapMs: 1_800_000 },
    time: {
      allowedLatenessMs: 0,
      maxOutOfOrdernessMs: 60_000,
      idleTimeoutMs: 120_000,
      maxEventTimeAheadMs: 300_000,
    },
    sink: { table: 'sessions' },
    columns: [
      { name: 'user_id', type: 'string' },
      { name: 'window_start', type: 'timestamp' },
      { name: 'window_end', type: 'timestamp' },
      { name: 'clicks', type: 'bigint' },
      { name: 'converted', type: 'boolean' },
      { name: 'pages', type: 'json', comment: 'Top pages' },
    ],
    errorBounds: {},
  };
}

/** A state shape for a fixture spec: its first column the key, every aggregate column a count. */
export function fixtureShape(spec: PipelineSpec): StateShape {
  return {
    version: STATE_SHAPE_VERSION,
    key: spec.window === undefined ? null : (spec.columns[0]?.name ?? 'key'),
    window: spec.window ?? null,
    dedupe: false,
    aggregates: spec.columns
      .slice(3)
      .map((c) => ({ column: c.name, kind: 'count', params: {} }))
      .sort((a, b) => (a.column < b.column ? -1 : 1)),
  };
}

/** A pipeline deployment of a fixture spec (with the shape the upgrade check needs). */
export function deployed(spec: PipelineSpec): { spec: PipelineSpec; stateShape: StateShape } {
  return { spec, stateShape: fixtureShape(spec) };
}

/**
 * Builds a stack with the fixture handlers (props may override anything). With `bundle: false` the
 * functions are not bundled (CDK's `aws:cdk:bundling-stacks` context), for tests that do not need it.
 */
export function buildStack(
  props: Partial<ShardflowStackProps> = {},
  id = 'Test',
  options: { readonly bundle?: boolean } = {},
): ShardflowStack {
  const app = new App(options.bundle === false ? { context: { 'aws:cdk:bundling-stacks': [] } } : {});
  return new ShardflowStack(app, id, {
    pipelines: [deployed(pipelineSpec())],
    ...FIXTURE_ENTRIES,
    env: { account: '123456789012', region: 'eu-west-1' },
    ...props,
  });
}

/** One IAM statement that grants a wildcard action or resource on Kinesis, DynamoDB or S3. */
export interface WildcardGrant {
  readonly policy: string;
  readonly actions: readonly string[];
  readonly resources: readonly unknown[];
}

const GUARDED_SERVICES = ['kinesis', 'dynamodb', 's3'];

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * Scans every `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy` and role inline policy of a synthesized
 * template for Allow statements on Kinesis, DynamoDB or S3 whose action is `*` / `<service>:*` or whose
 * resource is exactly `*`, and for any Allow statement using `NotAction` or `NotResource`.
 */
export function findWildcardGrants(template: { toJSON(): Record<string, unknown> }): WildcardGrant[] {
  const resources = (template.toJSON().Resources ?? {}) as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const documents: { policy: string; document: unknown }[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      documents.push({ policy: id, document: props.PolicyDocument });
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const inline of asArray(
        props.Policies as { PolicyName: string; PolicyDocument: unknown }[] | undefined,
      )) {
        documents.push({ policy: `${id}/${inline.PolicyName}`, document: inline.PolicyDocument });
      }
    }
  }
  const found: WildcardGrant[] = [];
  for (const { policy, document } of documents) {
    const statements = asArray((document as { Statement?: unknown[] } | undefined)?.Statement) as {
      Effect: string;
      Action?: string | string[];
      Resource?: unknown;
      NotAction?: unknown;
      NotResource?: unknown;
    }[];
    for (const statement of statements) {
      if (statement.Effect !== 'Allow') continue;
      // NotAction / NotResource allow everything except what they list: a wildcard in disguise.
      if ('NotAction' in statement || 'NotResource' in statement) {
        found.push({
          policy,
          actions: asArray(statement.Action ?? ['NotAction']),
          resources: asArray(statement.Resource as unknown[] | unknown),
        });
        continue;
      }
      const actions = asArray(statement.Action);
      const guarded = actions.filter((a) => a === '*' || GUARDED_SERVICES.includes(a.split(':')[0] ?? ''));
      if (guarded.length === 0) continue;
      const wildAction = guarded.some((a) => a === '*' || /^[a-z0-9]+:\*$/.test(a));
      const stmtResources = asArray(statement.Resource as unknown[] | unknown);
      const wildResource = stmtResources.some((r) => r === '*');
      if (wildAction || wildResource) found.push({ policy, actions: guarded, resources: stmtResources });
    }
  }
  return found;
}
