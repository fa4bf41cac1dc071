/**
 * AWS list prices (us-east-1, on-demand, as published in 2025–2026) used by the cost model of the state benchmark.
 * One place, so a price change is one edit. Figures are USD.
 */
export const PRICES_USD = {
  /** Lambda arm64 compute, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** Lambda requests, per invocation. */
  lambdaRequest: 0.2 / 1_000_000,
  /** DynamoDB on-demand write request unit (≤ 1 KB per unit). */
  dynamoDbWriteRequestUnit: 0.625 / 1_000_000,
  /** DynamoDB on-demand read request unit (strongly consistent ≤ 4 KB per unit). */
  dynamoDbReadRequestUnit: 0.125 / 1_000_000,
  /** S3 Standard PUT/COPY/POST/LIST, per request. */
  s3PutRequest: 0.005 / 1_000,
  /** Kinesis provisioned shard hour. */
  kinesisShardHour: 0.015,
  /** Kinesis PUT payload unit (25 KB), per unit. */
  kinesisPutPayloadUnit: 0.014 / 1_000_000,
} as const;

/** What one approach consumed to process a stream, in billable units. */
export interface Usage {
  readonly events: number;
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  readonly dynamoDbWriteUnits: number;
  readonly dynamoDbReadUnits: number;
  readonly s3Puts: number;
  /** Kinesis is the same for every approach: payload units for the events, plus shard hours while they flow. */
  readonly kinesisPutPayloadUnits: number;
  readonly kinesisShardHours: number;
}

/** Modeled cost of `usage`, scaled to one million events. */
export function costPerMillionEvents(usage: Usage): number {
  const p = PRICES_USD;
  const total =
    usage.lambdaInvocations * p.lambdaRequest +
    usage.lambdaGbSeconds * p.lambdaGbSecond +
    usage.dynamoDbWriteUnits * p.dynamoDbWriteRequestUnit +
    usage.dynamoDbReadUnits * p.dynamoDbReadRequestUnit +
    usage.s3Puts * p.s3PutRequest +
    usage.kinesisPutPayloadUnits * p.kinesisPutPayloadUnit +
    usage.kinesisShardHours * p.kinesisShardHour;
  return (total / usage.events) * 1_000_000;
}
