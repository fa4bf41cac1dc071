import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_TABLE } from '../../functions/core/constants';
import { progressPartitionKey, segmentPartitionKey } from '../../functions/core/state/keys';

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

/**
 * The one DynamoDB table holding every pipeline's shard progress and commit segments (DESIGN.md §3):
 * on-demand, point-in-time recovery, TTL (segments expire after the retention), encrypted at rest. Key
 * names come from `functions/core/constants.ts` so the handlers write the table the stack creates.
 */
export class StateTable extends Construct {
  /** The table built. */
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
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
