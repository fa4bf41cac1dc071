import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { findWildcardGrants } from './helpers';

// The stack tests assert that the wildcard scan and the cdk-nag report come back empty; these tests
// prove both checks do find problems, so those assertions can fail.
describe('wildcard IAM scan', () => {
  function templateWith(build: (stack: Stack, role: iam.Role) => void): Template {
    const stack = new Stack(new App(), 'Scan');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    build(stack, role);
    return Template.fromStack(stack);
  }

  it('when a policy grants s3:* on a bucket, it is reported', () => {
    const template = templateWith((stack, role) => {
      const bucket = new s3.Bucket(stack, 'Bucket');
      role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: [bucket.bucketArn] }));
    });
    expect(findWildcardGrants(template)).toEqual([
      expect.objectContaining({ actions: ['s3:*'], policy: expect.stringMatching(/^RoleDefaultPolicy/) }),
    ]);
  });

  it('when a policy grants a DynamoDB or Kinesis action on resource *, it is reported', () => {
    const template = templateWith((_stack, role) => {
      role.addToPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: ['*'] }));
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['kinesis:GetRecords', 'sqs:SendMessage'], resources: ['*'] }),
      );
    });
    expect(findWildcardGrants(template).map((g) => g.actions)).toEqual([
      ['dynamodb:GetItem'],
      ['kinesis:GetRecords'],
    ]);
  });

  it('when a role carries an inline policy with action *, it is reported', () => {
    const template = templateWith((stack) => {
      new iam.Role(stack, 'Inline', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        inlinePolicies: {
          everything: new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: ['*'], resources: ['arn:aws:s3:::x'] })],
          }),
        },
      });
    });
    expect(findWildcardGrants(template)).toEqual([
      expect.objectContaining({ policy: expect.stringMatching(/^Inline.*\/everything$/) }),
    ]);
  });

  it('when a statement allows NotAction or NotResource, it is reported', () => {
    const template = templateWith((_stack, role) => {
      role.addToPolicy(new iam.PolicyStatement({ notActions: ['iam:*'], resources: ['arn:aws:s3:::x'] }));
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], notResources: ['arn:aws:s3:::x/private/*'] }),
      );
      Validations.of(role).acknowledge({
        id: 'CloudFormation-Validate::W2512',
        reason: 'A deliberately bad policy for the scanner test.',
      });
    });
    expect(findWildcardGrants(template)).toHaveLength(2);
  });

  it('when wildcards are only on other services or in Deny statements, nothing is reported', () => {
    const template = templateWith((_stack, role) => {
      role.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:*'], resources: ['*'] }));
      role.addToPolicy(
        new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:*'], resources: ['*'] }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/prefix/*'] }),
      );
    });
    expect(findWildcardGrants(template)).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions checks', () => {
  it('when a bucket has no encryption settings, logging or TLS policy, they report it', () => {
    const stack = new Stack(new App(), 'Nag');
    new s3.Bucket(stack, 'Plain');
    const rules = new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});
