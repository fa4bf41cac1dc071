import { createHash } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A deterministic 13-character suffix like CloudFormation's random one, stable per stack and logical id. */
export function physicalSuffix(stackName: string, logicalId: string): string {
  const digest = createHash('sha256').update(`${stackName}/${logicalId}`).digest();
  let out = '';
  for (let i = 0; i < 13; i += 1) out += ALPHABET[(digest[i] as number) % ALPHABET.length];
  return out;
}

/** Max physical name length per resource type (CloudFormation truncates the stack/logical parts). */
const MAX_LENGTH: Readonly<Record<string, number>> = {
  'AWS::S3::Bucket': 63,
  'AWS::Lambda::Function': 64,
  'AWS::SQS::Queue': 80,
  'AWS::IAM::Role': 64,
  'AWS::Kinesis::Stream': 128,
  'AWS::DynamoDB::Table': 255,
};

/**
 * The name CloudFormation generates when a resource has no explicit name: `<stack>-<logicalId>-<suffix>`
 * (lower case for buckets), shortened to the type's limit. Deterministic, so re-deploys are idempotent.
 */
export function generatePhysicalName(stackName: string, logicalId: string, type: string): string {
  const suffix = physicalSuffix(stackName, logicalId);
  const max = MAX_LENGTH[type] ?? 128;
  const budget = max - suffix.length - 2;
  const stackPart = stackName.slice(0, Math.ceil(budget / 2));
  const logicalPart = logicalId.slice(0, budget - stackPart.length);
  const name = `${stackPart}-${logicalPart}-${suffix}`;
  return type === 'AWS::S3::Bucket' ? name.toLowerCase() : name;
}

/** A deterministic UUID-formatted id (for event source mappings). */
export function deterministicUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
