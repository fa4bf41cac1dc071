import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, type IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag `AwsSolutions-IAM5` findings for object-prefix ARNs (`…/prefix/*`) granted to
 * `grantee`. cdk-nag v3 names each finding after the flattened ARN and has no prefix matching, so the
 * ids are computed with cdk-nag's own flattening to match exactly what it reports.
 */
export function acknowledgeObjectPrefixGrants(
  grantee: IConstruct,
  resourceArns: readonly string[],
  reason: string,
): void {
  const stack = Stack.of(grantee);
  // A function given a role of its own keeps the grant's policy under that role, not under the function.
  const role = (grantee as { role?: unknown }).role;
  const scopes = isConstruct(role) ? [grantee, role] : [grantee];
  for (const arn of resourceArns) {
    const flat = flattenCfnReference(stack.resolve(arn));
    for (const scope of scopes)
      Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
  }
}

function isConstruct(value: unknown): value is IConstruct {
  return Construct.isConstruct(value);
}
