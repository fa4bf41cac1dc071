import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_TABLE } from '../../functions/core/constants';

/** DynamoDB actions the operator and tick functions need on the state table. */
export const STATE_ACCESS_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
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
 * The one DynamoDB table holding keyed window state and per-shard progress for every pipeline
 * (DESIGN.md §3): on-demand, point-in-time recovery, TTL, encrypted at rest, with the sparse
 * `open-windows` GSI the tick queries for windows that may close. Key names come from
 * `functions/core/constants.ts` so the handlers write the table the stack creates.
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
    this.table.addGlobalSecondaryIndex({
      indexName: STATE_TABLE.OPEN_WINDOWS_INDEX,
      partitionKey: { name: STATE_TABLE.OPEN_WINDOWS_PARTITION_KEY, type: str },
      sortKey: { name: STATE_TABLE.OPEN_WINDOWS_SORT_KEY, type: dynamodb.AttributeType.NUMBER },
      // ALL: the tick reads what it needs to close a window from the index alone, without a GetItem per window.
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /**
   * Grants the item-level calls the state store makes (conditional reads and writes of window and
   * shard-progress items, queries of the `open-windows` index) on this table and that one index only:
   * exactly the calls `DynamoDBStateStore` makes (no deletes, no scans, no batch writes).
   */
  public grantStateAccess(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: STATE_ACCESS_ACTIONS,
      resourceArns: [this.table.tableArn, this.openWindowsIndexArn],
    });
  }

  /** ARN of the `open-windows` index, for grants scoped to that one index. */
  public get openWindowsIndexArn(): string {
    return `${this.table.tableArn}/index/${STATE_TABLE.OPEN_WINDOWS_INDEX}`;
  }
}
