/**
 * The table a table-source pipeline (`fromTable`) reads, created by the stack when the pipeline's module
 * declares its key (`export const sourceTable = { partitionKey: { name: 'orderId', type: 'S' } }`): what the
 * example app and `shardflow run` deploy. A table of your own is given as `table` instead.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { PipelineSpec } from '../../functions/core/types';

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
