/**
 * Shard ids: the one rule a shard id meets before it becomes part of state keys and object paths
 * (`state/paths.ts`), checked at the edges that read one from an event (`adapters/kinesisEventCodec.ts`: the
 * shard part of a record's `eventID`; `adapters/tumblingWindowEvent.ts`: a window event's `shardId`), so a bad
 * one fails there with one line instead of midway through a batch; and the ids of replay shards
 * (`state/SkippedBatchReplay.ts`).
 *
 * Kinesis names shards with 1–128 of `[a-zA-Z0-9_.-]` (API reference, `Shard.ShardId`;
 * `shardId-000000000000`), DynamoDB Streams with 28–65 of them (`shardId-00000001414562045508-2bac9cd2`);
 * the rule also asks for a letter or digit first, so no id is `.`, `..` or reads as an option (`-x`).
 */
import { createHash } from 'node:crypto';
import { EngineError } from './errors';
import { padSequence } from './sequence';

/** Longest shard id of a stream (Kinesis' limit; DynamoDB Streams' is 65). */
export const MAX_SHARD_ID_CHARS = 128;

const FIRST = /^[A-Za-z0-9]/;
const REST = /^[A-Za-z0-9_.-]*$/;
const REPLAY_SUFFIX = '.replay-';
const REPLAY_DIGEST = /^[0-9a-f]{12}$/;

/** What a shard id is, for messages. */
export const SHARD_ID_RULE = `1–${MAX_SHARD_ID_CHARS} letters, digits, '_', '.', '-', the first a letter or digit`;

/** A shard id is not one ({@link shardIdProblem}). */
export class InvalidShardIdError extends EngineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidShardIdError';
  }
}

/**
 * Why `id` cannot be a shard id, or undefined when it can: a stream's shard id ({@link SHARD_ID_RULE}), or
 * the replay shard of one ({@link replayShardId}).
 */
export function shardIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') return `is a ${id === null ? 'null' : typeof id}, not a string`;
  const base = replayOrigin(id) ?? id;
  if (base.length === 0) return 'is empty';
  if (base.length > MAX_SHARD_ID_CHARS) return `is ${base.length} characters long`;
  if (!FIRST.test(id)) return 'does not start with a letter or digit';
  if (!REST.test(id)) return "holds characters other than letters, digits, '_', '.', '-'";
  return undefined;
}

/** A shard id for messages: its first 64 characters as JSON; anything else as JSON, cut at 64 characters. */
export function shownShardId(id: unknown): string {
  if (typeof id === 'string') return JSON.stringify(id.slice(0, 64));
  const text = JSON.stringify(id) ?? typeof id;
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

/**
 * `id`, checked by {@link shardIdProblem}.
 * @throws InvalidShardIdError naming `what` (e.g. "Shard"), the id and the rule.
 */
export function assertShardId(what: string, id: string): string {
  const problem = shardIdProblem(id);
  if (problem !== undefined)
    throw new InvalidShardIdError(`${what} ${shownShardId(id)} ${problem}: a shard id is ${SHARD_ID_RULE}`);
  return id;
}

/**
 * The shard id a skipped range of `shardId` is replayed as: `<shard>.replay-<12 hex digits of the SHA-256 of
 * its first sequence number>`. A digest rather than the 56-digit number keeps side-output names (which hold
 * the shard id and two sequence numbers) short: S3 emulators that store keys as file names refuse path
 * components over 255 bytes.
 */
export function replayShardId(shardId: string, firstSequence: string): string {
  const digest = createHash('sha256').update(padSequence(firstSequence)).digest('hex').slice(0, 12);
  return `${shardId}${REPLAY_SUFFIX}${digest}`;
}

/** The shard a replay shard replays records of, or undefined for any other shard id. */
export function replayOrigin(shardId: string): string | undefined {
  const at = shardId.lastIndexOf(REPLAY_SUFFIX);
  return at > 0 && REPLAY_DIGEST.test(shardId.slice(at + REPLAY_SUFFIX.length))
    ? shardId.slice(0, at)
    : undefined;
}
