import { TemplateResolutionError } from './errors';
import { deterministicUuid, generatePhysicalName } from './physicalNames';
import type { CfnTemplate, DeploymentEnvironment } from './types';

/** Marker for `Ref: AWS::NoValue`: the property is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

/** Explicit-name property of each type that has one. */
const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::Kinesis::Stream': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Events::Rule': 'Name',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::Glue::Database': 'DatabaseInput.Name',
  'AWS::Athena::WorkGroup': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Resolves a template's intrinsic functions the way CloudFormation does for the cases CDK emits:
 * Ref (resources, parameters, pseudo parameters), Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split, Fn::If/Equals/Not/And/Or and conditions, Fn::FindInMap, Fn::Base64, Fn::GetAZs.
 * Physical names are computed up front (explicit name property, else a deterministic generated one),
 * so references never depend on creation order.
 */
export class TemplateResolver {
  public readonly region: string;
  public readonly accountId: string;
  public readonly stackName: string;
  private readonly names = new Map<string, string>();
  private readonly resolving = new Set<string>();
  private readonly conditionCache = new Map<string, boolean>();

  public constructor(
    private readonly template: CfnTemplate,
    private readonly env: DeploymentEnvironment,
  ) {
    this.region = env.region ?? 'us-east-1';
    this.accountId = env.accountId ?? '000000000000';
    this.stackName = env.stackName;
  }

  /** Whether a resource (or condition name) is active. */
  public condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateResolutionError(`unknown condition ${name}`);
    const value = this.resolve(definition, `Conditions.${name}`);
    if (typeof value !== 'boolean')
      throw new TemplateResolutionError(`condition ${name} did not resolve to a boolean`);
    this.conditionCache.set(name, value);
    return value;
  }

  /** The physical name of a resource (what `Ref` returns for named resources). */
  public physicalName(logicalId: string): string {
    const cached = this.names.get(logicalId);
    if (cached !== undefined) return cached;
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new TemplateResolutionError(`unknown resource ${logicalId}`);
    if (this.resolving.has(logicalId))
      throw new TemplateResolutionError(`circular reference through ${logicalId}`);
    this.resolving.add(logicalId);
    try {
      const property = NAME_PROPERTY[resource.Type];
      let explicit: unknown;
      if (property !== undefined) {
        explicit = property
          .split('.')
          .reduce<unknown>((obj, key) => (isObject(obj) ? obj[key] : undefined), resource.Properties);
      }
      let name: string;
      if (explicit !== undefined) {
        const resolved = this.resolve(explicit, `${logicalId}.${property}`);
        if (typeof resolved !== 'string')
          throw new TemplateResolutionError(`${logicalId}.${property} did not resolve to a string`);
        name = resolved;
      } else if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
        name = deterministicUuid(`${this.stackName}/${logicalId}`);
      } else {
        name = generatePhysicalName(this.stackName, logicalId, resource.Type);
      }
      if (
        resource.Type === 'AWS::SQS::Queue' &&
        resource.Properties?.['FifoQueue'] === true &&
        !name.endsWith('.fifo')
      )
        name = `${name}.fifo`;
      this.names.set(logicalId, name);
      return name;
    } finally {
      this.resolving.delete(logicalId);
    }
  }

  /** What `Ref` returns for a resource. */
  public ref(logicalId: string): string {
    const resource = this.template.Resources[logicalId];
    if (resource?.Type === 'AWS::SQS::Queue') return this.queueUrl(this.physicalName(logicalId));
    return this.physicalName(logicalId);
  }

  public queueUrl(name: string): string {
    const base = this.env.sqsBaseUrl ?? `https://sqs.${this.region}.amazonaws.com`;
    return `${base.replace(/\/$/, '')}/${this.accountId}/${name}`;
  }

  /** What `Fn::GetAtt` returns. */
  public getAtt(logicalId: string, attribute: string): string {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined)
      throw new TemplateResolutionError(`Fn::GetAtt of unknown resource ${logicalId}`);
    const name = this.physicalName(logicalId);
    const r = this.region;
    const a = this.accountId;
    const arns: Readonly<Record<string, string>> = {
      'AWS::Kinesis::Stream': `arn:aws:kinesis:${r}:${a}:stream/${name}`,
      'AWS::DynamoDB::Table': `arn:aws:dynamodb:${r}:${a}:table/${name}`,
      'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
      'AWS::SQS::Queue': `arn:aws:sqs:${r}:${a}:${name}`,
      'AWS::Lambda::Function': `arn:aws:lambda:${r}:${a}:function:${name}`,
      'AWS::IAM::Role': `arn:aws:iam::${a}:role/${name}`,
      'AWS::IAM::ManagedPolicy': `arn:aws:iam::${a}:policy/${name}`,
      'AWS::KMS::Key': `arn:aws:kms:${r}:${a}:key/${deterministicUuid(name)}`,
      'AWS::Events::Rule': `arn:aws:events:${r}:${a}:rule/${name}`,
      'AWS::Scheduler::Schedule': `arn:aws:scheduler:${r}:${a}:schedule/default/${name}`,
      'AWS::Logs::LogGroup': `arn:aws:logs:${r}:${a}:log-group:${name}:*`,
      'AWS::Lambda::EventSourceMapping': `arn:aws:lambda:${r}:${a}:event-source-mapping:${name}`,
    };
    switch (attribute) {
      case 'Arn':
        return (
          arns[resource.Type] ??
          `arn:aws:${resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown'}:${r}:${a}:${name}`
        );
      case 'StreamArn':
        return this.tableStreamArn(logicalId, resource.Type);
      case 'QueueName':
        return name;
      case 'QueueUrl':
        return this.queueUrl(name);
      case 'DomainName':
        return `${name}.s3.amazonaws.com`;
      case 'RegionalDomainName':
        return `${name}.s3.${r}.amazonaws.com`;
      case 'WebsiteURL':
        return `http://${name}.s3-website-${r}.amazonaws.com`;
      case 'RoleId':
        return `AROA${name
          .replace(/[^A-Z0-9]/gi, '')
          .toUpperCase()
          .slice(0, 17)}`;
      case 'KeyId':
        return deterministicUuid(name);
      case 'Id':
      case 'Name':
        return name;
      default:
        throw new TemplateResolutionError(
          `Fn::GetAtt ${logicalId}.${attribute} is not supported for ${resource.Type}`,
        );
    }
  }

  /**
   * A table's stream ARN: DynamoDB names a stream by its creation time, so it is known only once the table
   * exists (`DeploymentEnvironment.tableStreamArns`, from `createTables`).
   */
  private tableStreamArn(logicalId: string, type: string): string {
    const known = this.env.tableStreamArns?.[logicalId];
    if (known !== undefined) return known;
    if (type !== 'AWS::DynamoDB::Table')
      throw new TemplateResolutionError(`Fn::GetAtt ${logicalId}.StreamArn is not supported for ${type}`);
    throw new TemplateResolutionError(
      `the stream ARN of table ${logicalId} is known once the table exists: create the tables first (planTables, then createTables) and plan with their tableStreamArns`,
    );
  }

  /** Resolves every intrinsic in a value. `AWS::NoValue` properties are dropped. */
  public resolve(value: unknown, path = '$'): unknown {
    const out = this.resolveInner(value, path);
    return out === NO_VALUE ? undefined : out;
  }

  private pseudo(name: string): string | typeof NO_VALUE | undefined {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/${deterministicUuid(this.stackName)}`;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
        return undefined;
    }
  }

  private refValue(name: string, path: string): unknown {
    const pseudo = this.pseudo(name);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      const given = this.env.parameters?.[name];
      if (given !== undefined) return given;
      if (parameter.Default !== undefined)
        return parameter.Type.startsWith('List<') || parameter.Type === 'CommaDelimitedList'
          ? String(parameter.Default).split(',')
          : parameter.Default;
      throw new TemplateResolutionError(`parameter ${name} has no value (at ${path})`);
    }
    if (this.template.Resources[name] !== undefined) return this.ref(name);
    throw new TemplateResolutionError(`Ref to unknown ${name} (at ${path})`);
  }

  private resolveInner(value: unknown, path: string): unknown {
    if (Array.isArray(value)) {
      return value
        .map((item, i) => this.resolveInner(item, `${path}[${i}]`))
        .filter((item) => item !== NO_VALUE);
    }
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0] as string;
      const arg = value[key];
      switch (key) {
        case 'Ref':
          return this.refValue(String(arg), path);
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg)
            ? (arg as string[])
            : String(arg).split(/\.(.*)/s);
          return this.getAtt(String(logicalId), String(this.resolve(attribute, path)));
        }
        case 'Fn::Join': {
          const [separator, list] = arg as [string, unknown];
          const items = this.resolveInner(list, path);
          if (!Array.isArray(items)) throw new TemplateResolutionError(`Fn::Join needs a list (at ${path})`);
          return items.map(String).join(separator);
        }
        case 'Fn::Sub':
          return this.sub(arg, path);
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          const items = this.resolveInner(list, path);
          const i = Number(this.resolveInner(index, path));
          if (!Array.isArray(items) || !(i >= 0 && i < items.length))
            throw new TemplateResolutionError(`Fn::Select index ${i} out of range (at ${path})`);
          return items[i];
        }
        case 'Fn::Split': {
          const [separator, text] = arg as [string, unknown];
          return String(this.resolveInner(text, path)).split(separator);
        }
        case 'Fn::Base64':
          return Buffer.from(String(this.resolveInner(arg, path))).toString('base64');
        case 'Fn::GetAZs':
          return ['a', 'b', 'c'].map((zone) => `${this.region}${zone}`);
        case 'Fn::FindInMap': {
          const [map, top, second] = (arg as unknown[]).map((part) => String(this.resolveInner(part, path)));
          const found = this.template.Mappings?.[map as string]?.[top as string]?.[second as string];
          if (found === undefined)
            throw new TemplateResolutionError(`Fn::FindInMap ${map}.${top}.${second} not found (at ${path})`);
          return found;
        }
        case 'Fn::If': {
          const [condition, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          return this.condition(condition)
            ? this.resolveInner(whenTrue, path)
            : this.resolveInner(whenFalse, path);
        }
        case 'Fn::Equals': {
          const [left, right] = (arg as unknown[]).map((part) => this.resolveInner(part, path));
          return JSON.stringify(left) === JSON.stringify(right);
        }
        case 'Fn::Not':
          return !(this.resolveInner((arg as unknown[])[0], path) as boolean);
        case 'Fn::And':
          return (arg as unknown[]).every((part) => this.resolveInner(part, path) === true);
        case 'Fn::Or':
          return (arg as unknown[]).some((part) => this.resolveInner(part, path) === true);
        case 'Condition':
          return this.condition(String(arg));
        case 'Fn::Contains': {
          const [list, item] = (arg as unknown[]).map((part) => this.resolveInner(part, path));
          return Array.isArray(list) && list.includes(item);
        }
        default:
          if (key.startsWith('Fn::'))
            throw new TemplateResolutionError(`${key} is not supported by the local deployer (at ${path})`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const resolved = this.resolveInner(child, `${path}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private sub(arg: unknown, path: string): string {
    const [text, variables] = Array.isArray(arg)
      ? (arg as [string, Record<string, unknown>])
      : [String(arg), {}];
    const resolvedVariables = Object.fromEntries(
      Object.entries(variables ?? {}).map(([k, v]) => [k, this.resolve(v, `${path}.${k}`)]),
    );
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, bang: string, name: string) => {
      if (bang === '!') return `\${${name}}`;
      if (name in resolvedVariables) return String(resolvedVariables[name]);
      const dot = name.indexOf('.');
      if (dot !== -1 && this.template.Resources[name.slice(0, dot)] !== undefined)
        return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return String(this.refValue(name, path));
    });
  }
}
