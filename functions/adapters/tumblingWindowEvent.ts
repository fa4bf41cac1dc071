/**
 * The tumbling-window contract of Lambda's stream event source mappings. When a mapping has
 * `TumblingWindowInSeconds`, every event carries, beside `Records`: `window` ({ start, end }), `state`,
 * `shardId`, `eventSourceARN`, `isFinalInvokeForWindow` and `isWindowTerminatedEarly`; the final invocation
 * of a window has no records; and the response must hold a `state` object, else Lambda counts the
 * invocation as failed (the documented `TimeWindowEventResponse` holds `state` and `batchItemFailures`, which
 * still apply). Sources: Lambda developer guide, "Implementing stateful DynamoDB stream processing in Lambda"
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html, and services-kinesis-windows for
 * Kinesis); the same fields in Powertools' parser `DynamoDBStreamSchema`
 * (powertools-lambda-typescript, packages/parser/src/schemas/dynamodb.ts) and in `TimeWindowProperties` of
 * the Rust `aws_lambda_events` crate.
 *
 * The operator keeps no state in the window (its state is in DynamoDB): it reads the shard and answers
 * `state: {}`.
 */
import { ShardflowError } from '../core/errors';
import { SHARD_ID_RULE, shardIdProblem, shownShardId } from '../core/shardId';

/** The event's `shardId` is present but is not a shard id. */
export class InvalidWindowEventError extends ShardflowError {
  public constructor(message: string) {
    super(message);
    this.name = 'InvalidWindowEventError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The shard `event` names (`shardId`, set by mappings with a tumbling window), or undefined when it names
 * none.
 * @throws InvalidWindowEventError when `shardId` is present but not a shard id (`core/shardId.ts`).
 */
export function eventShardId(event: unknown): string | undefined {
  const value = isObject(event) ? event['shardId'] : undefined;
  if (value === undefined || value === null) return undefined;
  const problem = shardIdProblem(value);
  if (problem === undefined) return value as string;
  throw new InvalidWindowEventError(
    `The event's shardId ${shownShardId(value)} ${problem}: a shard id is ${SHARD_ID_RULE}; the batch cannot be fenced, check what invokes this function`,
  );
}

/** The event's top-level `eventSourceARN` (set with `shardId`), or undefined. */
export function eventSourceArn(event: unknown): string | undefined {
  const value = isObject(event) ? event['eventSourceARN'] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** Whether `event` is an invocation of a tumbling window (it has a `window`). */
export function isWindowEvent(event: unknown): boolean {
  return isObject(event) && isObject(event['window']);
}

/**
 * The response to `event`: `response` itself, with an empty `state` when the event is of a tumbling window
 * (Lambda fails a window invocation whose response has no `state`).
 */
export function answerWindow<R extends object>(event: unknown, response: R): R {
  return isWindowEvent(event) ? { ...response, state: {} } : response;
}
