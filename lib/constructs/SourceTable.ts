/**
 * The table a table-source pipeline (`fromTable`) reads, created by the stack when the pipeline's module
 * declares its key (`export const sourceTable = { partitionKey: { name: 'orderId', type: 'S' } }`): what the
 * example app and `shardflow run` deploy. A table of your own is given as `table` instead. The stack's rules
 * for the two (`validateSourceTableDeployment`) and the table it creates (`withSourceTable`) are here.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { PipelineSpec } from '../../functions/core/types';
import { pascal } from '../outputNames';

/** One key attribute of a source table: its name and DynamoDB type (string, number, binary). */
export interface SourceTableAttribute {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** The key of the table a table-source pipeline reads, as its module declares it. */
export interface SourceTableKey {
  readonly partitionKey: SourceTableAttribute;
  readonly sortKey?: SourceTableAttribute;
}

const ATTRIBUTE_TYPES: Readonly<Record<SourceTableAttribute['type'], dynamodb.AttributeType>> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every problem with a declared source table key (a module's export: hostile), each naming the value. */
export function validateSourceTableKey(value: unknown, where: string): string[] {
  if (!isObject(value))
    return [
      `${where} must be { partitionKey: { name, type: 'S' | 'N' | 'B' }, sortKey? } (given ${JSON.stringify(value)})`,
    ];
  const problems: string[] = [];
  for (const part of ['partitionKey', 'sortKey'] as const) {
    const attribute = value[part];
    if (attribute === undefined && part === 'sortKey') continue;
    const name = isObject(attribute) ? attribute['name'] : undefined;
    const type = isObject(attribute) ? attribute['type'] : undefined;
    if (typeof name !== 'string' || name.length < 1 || name.length > 255)
      problems.push(
        `${where}.${part}.name must be an attribute name of 1 to 255 characters (given ${JSON.stringify(name)})`,
      );
    if (typeof type !== 'string' || !Object.hasOwn(ATTRIBUTE_TYPES, type))
      problems.push(`${where}.${part}.type must be 'S', 'N' or 'B' (given ${JSON.stringify(type)})`);
  }
  return problems;
}

/** Props of {@link SourceTable}. */
export interface SourceTableProps {
  /** The table-source pipeline: the table is named and streamed as its `fromTable()` says. */
  readonly spec: PipelineSpec;
  readonly key: SourceTableKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The table of a table-source pipeline: named as `fromTable()` names it, with a stream of the view it reads,
 * on-demand, point-in-time recovery, encrypted at rest.
 */
export class SourceTable extends Construct {
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: SourceTableProps) {
    super(scope, id);
    const { spec, key } = props;
    const attribute = (a: SourceTableAttribute): dynamodb.Attribute => ({
      name: a.name,
      type: ATTRIBUTE_TYPES[a.type],
    });
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: spec.source.stream,
      partitionKey: attribute(key.partitionKey),
      ...(key.sortKey === undefined ? {} : { sortKey: attribute(key.sortKey) }),
      stream: spec.source.table?.view as dynamodb.StreamViewType,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}

/** How a stack's pipeline deployment names its table: given, or declared by key for the stack to create. */
export interface SourceTableChoice {
  /** The pipeline's module, when given by module. */
  readonly entry?: string;
  readonly table?: dynamodb.ITable;
  readonly sourceTable?: SourceTableKey;
}

/**
 * Every problem with how `deployment` names the table of `spec` (each naming the value): a table-source
 * pipeline needs a `table` or a `sourceTable`, not both; a stream pipeline no `sourceTable`; a `sourceTable`
 * must be a key. (A `table` given to a stream pipeline is `validatePipelineDeployment`'s.)
 */
export function validateSourceTableDeployment(spec: PipelineSpec, deployment: SourceTableChoice): string[] {
  const problems: string[] = [];
  const view = spec.source.table?.view;
  if (view !== undefined && deployment.table === undefined && deployment.sourceTable === undefined)
    problems.push(
      `Pipeline '${spec.name}' reads table '${spec.source.stream}' (fromTable) but is given no table: export const sourceTable = { partitionKey: { name, type } } from ${deployment.entry ?? 'its module'} (the stack creates the table), or give table (a dynamodb.ITable with a ${view} stream)`,
    );
  if (deployment.sourceTable === undefined) return problems;
  problems.push(...validateSourceTableKey(deployment.sourceTable, `sourceTable of pipeline '${spec.name}'`));
  if (deployment.table !== undefined)
    problems.push(
      `Pipeline '${spec.name}' is given both a table and a sourceTable: give one (the table, or the key of the table the stack creates)`,
    );
  if (view === undefined)
    problems.push(
      `A sourceTable is given but pipeline '${spec.name}' reads stream '${spec.source.stream}': read the table with fromTable(), or give no sourceTable`,
    );
  return problems;
}

/**
 * `deployment` with the table its `sourceTable` declares, created in `scope` (`SourceTable`), as its `table`;
 * as it is without a `sourceTable`. Checked first by {@link validateSourceTableDeployment}.
 */
export function withSourceTable<D extends SourceTableChoice>(
  scope: Construct,
  spec: PipelineSpec,
  deployment: D,
  removalPolicy: RemovalPolicy,
): Omit<D, 'sourceTable'> {
  const { sourceTable: key, ...rest } = deployment;
  if (key === undefined) return deployment;
  const { table } = new SourceTable(scope, `${pascal(spec.name)}Source`, { spec, key, removalPolicy });
  return { ...rest, table };
}
