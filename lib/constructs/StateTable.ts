import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_TABLE } from '../../functions/core/constants';
import { progressPartitionKey, segmentPartitionKey } from '../../functions/core/state/keys';
import { Problems } from '../validation';

/** DynamoDB actions the operator and tick functions need on the state table. */
export const STATE_ACCESS_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  // An attempt's segment that no commit names (a lost commit race: `attemptOutputs.ts`).
  'dynamodb:DeleteItem',
  // TransactWriteItems is authorized per action inside it (PutItem, ConditionCheckItem).
  'dynamodb:ConditionCheckItem',
];

/** Props of {@link StateTable}. */
export interface StateTableProps {
  /**
   * An existing table to keep the state in instead of creating one (the user's own, another stack's, or
   * imported with `Table.fromTableName`): string partition key `pk` and string sort key `sk` (checked at synth
   * when its definition is in the app), with TTL on `ttl` so that commit segments expire. `encryptionKey` and
   * `removalPolicy` apply to a created table only; nothing is added to this one, and `cdk destroy` leaves it.
   * @default - a new table
   */
  readonly table?: dynamodb.ITable;
  /**
   * Customer-managed key for server-side encryption.
   * @default - the AWS-managed `alias/aws/dynamodb` key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table (and the window state in it) when removed from the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Every problem with `props`, each naming the given value; empty when valid. */
export function validateStateTableProps(props: StateTableProps): string[] {
  const problems = new Problems()
    .check(
      props.table !== undefined && props.encryptionKey !== undefined,
      'encryptionKey applies to a created table only: encrypt the given table itself',
    )
    .check(
      props.table !== undefined && props.removalPolicy !== undefined,
      'removalPolicy applies to a created table only: the given table stays as its owner made it',
    );
  const cfn = props.table?.node.defaultChild;
  if (cfn instanceof dynamodb.CfnTable) {
    const keys = keyOf(cfn);
    const wanted = `${STATE_TABLE.PARTITION_KEY} (S, HASH), ${STATE_TABLE.SORT_KEY} (S, RANGE)`;
    problems.check(
      keys !== undefined && keys !== wanted,
      `The given table's key must be ${wanted} (given ${keys ?? ''})`,
    );
    const ttl = Stack.of(cfn).resolve(cfn.timeToLiveSpecification) as
      { attributeName?: unknown; enabled?: unknown } | undefined;
    problems.check(
      ttl?.enabled !== true || ttl.attributeName !== STATE_TABLE.TTL_ATTRIBUTE,
      `The given table must expire items by TTL on '${STATE_TABLE.TTL_ATTRIBUTE}' (timeToLiveAttribute: '${STATE_TABLE.TTL_ATTRIBUTE}'), or commit segments are kept for ever`,
    );
  }
  return [...problems.all];
}

/** `name (type, HASH), …` of a table's key, when known at synth. */
function keyOf(cfn: dynamodb.CfnTable): string | undefined {
  const stack = Stack.of(cfn);
  const schema = stack.resolve(cfn.keySchema) as unknown;
  const attributes = stack.resolve(cfn.attributeDefinitions) as unknown;
  if (!Array.isArray(schema) || !Array.isArray(attributes)) return undefined;
  const typeOf = new Map(
    (attributes as { attributeName: string; attributeType: string }[]).map((a) => [
      a.attributeName,
      a.attributeType,
    ]),
  );
  return (schema as { attributeName: string; keyType: string }[])
    .map((k) => `${k.attributeName} (${typeOf.get(k.attributeName) ?? '?'}, ${k.keyType})`)
    .join(', ');
}

/**
 * The one DynamoDB table holding every pipeline's shard progress and commit segments (DESIGN.md §3):
 * on-demand, point-in-time recovery, TTL (segments expire after the retention), encrypted at rest. Key
 * names come from `functions/core/constants.ts` so the handlers write the table the stack creates.
 */
export class StateTable extends Construct {
  /** The table built, or the one given. */
  public readonly table: dynamodb.ITable;

  public constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    new Problems().addAll(validateStateTableProps(props)).throwIfAny(`StateTable '${this.node.path}'`);
    if (props.table !== undefined) {
      this.table = props.table;
      return;
    }
    const str = dynamodb.AttributeType.STRING;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE.PARTITION_KEY, type: str },
      sortKey: { name: STATE_TABLE.SORT_KEY, type: str },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: STATE_TABLE.TTL_ATTRIBUTE,
      ...(props.encryptionKey
        ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /**
   * Grants the item-level calls the state store makes for `pipeline` (queries, conditional puts and
   * transactions of progress items and segments, conditional updates of the pipeline item, deletes of
   * segments no commit names) on this table only, and only on that pipeline's partitions (`P#<pipeline>`,
   * `C#<pipeline>#<shard>`): exactly the calls `DynamoDBStateStore` makes (no scans, no batch writes, no
   * indexes), and no pipeline sharing the table can read or write another's state.
   */
  public grantStateAccess(grantee: iam.IGrantable, pipeline: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: STATE_ACCESS_ACTIONS,
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [progressPartitionKey(pipeline), segmentPartitionKey(pipeline, '*')],
        },
      },
    });
  }
}
