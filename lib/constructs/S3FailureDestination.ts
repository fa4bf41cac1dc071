import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeObjectPrefixGrants } from '../nag';
import { grantPutEncryption, LAMBDA_FAILURE_PREFIX } from './ResultsBucket';

/**
 * On-failure destination of a Kinesis event source mapping that writes to an S3 bucket, granting
 * the function only what Lambda documents for an S3 destination (`s3:PutObject`, `s3:ListBucket`),
 * both limited to Lambda's own `aws/lambda/` key prefix: PutObject by resource, ListBucket by an
 * `s3:prefix` condition, so the destination never lets the function list the results bucket.
 *
 * Written instead of using aws-cdk-lib's `S3OnFailureDestination` because that one grants the
 * function read-write on the whole bucket, which here is the results bucket; the mapping API has no
 * key-prefix setting, so Lambda chooses `aws/lambda/<mapping-uuid>/<shard-id>/YYYY/MM/DD/...`.
 */
export class S3FailureDestination implements lambda.IEventSourceDlq {
  public constructor(private readonly bucket: s3.IBucket) {}

  public bind(
    _target: lambda.IEventSourceMapping,
    targetHandler: lambda.IFunction,
  ): lambda.DlqDestinationConfig {
    const failures = this.bucket.arnForObjects(`${LAMBDA_FAILURE_PREFIX}*`);
    iam.Grant.addToPrincipal({ grantee: targetHandler, actions: ['s3:PutObject'], resourceArns: [failures] });
    grantPutEncryption(this.bucket, targetHandler);
    acknowledgeObjectPrefixGrants(
      targetHandler,
      [failures],
      'Lambda writes on-failure records under aws/lambda/<mapping-uuid>/<shard-id>/...; PutObject is limited to that prefix.',
    );
    targetHandler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${LAMBDA_FAILURE_PREFIX}*`] } },
      }),
    );
    return { destination: this.bucket.bucketArn };
  }
}
