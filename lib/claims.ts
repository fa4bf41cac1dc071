/**
 * Names two constructs must not both take, checked at synth instead of failing a deploy (or, worse, not
 * failing it): physical names of resources in one account and region (a Glue database, an Athena workgroup, a
 * stream, a pipeline's alarms), and the key prefixes and tables of a shared results bucket or Glue database.
 */
import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ShardflowCdkError } from './errors';

const taken = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Records that `by` takes `name` within `within`; throws a ShardflowCdkError with `problem(other)`, `other`
 * the path of the construct that took it first, when another did.
 */
export function claim(
  within: IConstruct,
  name: string,
  by: IConstruct,
  problem: (other: string) => string,
): void {
  const names = taken.get(within) ?? new Map<string, string>();
  taken.set(within, names);
  const other = names.get(name);
  if (other !== undefined && other !== by.node.path) throw new ShardflowCdkError(problem(other));
  names.set(name, by.node.path);
}

/**
 * {@link claim} of a physical name of `kind` in the account and region of `by`'s stack, across the whole app
 * (stacks of one environment deploy to one account and region). An environment-agnostic stack claims within
 * itself only: where it deploys is chosen at deploy time, so two of them may go to different accounts.
 */
export function claimPhysicalName(
  by: IConstruct,
  kind: string,
  name: string,
  problem: (other: string) => string,
): void {
  const stack = Stack.of(by);
  claim(by.node.root, `${kind} in ${environmentOf(stack, stack)}: ${name}`, by, problem);
}

/**
 * The account and region of `env` (a stack's, or a resource's: an imported table's is its ARN's or its
 * importing stack's), or `stack <path>` of `stack` when either is known only at deploy.
 */
export function environmentOf(
  env: { readonly account: string; readonly region: string },
  stack: Stack,
): string {
  return Token.isUnresolved(env.account) || Token.isUnresolved(env.region)
    ? `stack ${stack.node.path}`
    : `${env.account}/${env.region}`;
}

/**
 * How a shared resource is named in claims and messages: its physical name when known at synth (two imports of
 * one bucket are one bucket), else its construct path.
 */
export function sharedName(resource: IConstruct, physicalName: string): string {
  return Token.isUnresolved(physicalName) ? resource.node.path : physicalName;
}
