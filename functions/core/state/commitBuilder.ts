/**
 * Builds one shard commit from a combined batch (pure): the segment (every key's partial of every window,
 * the dedupe hashes), and the next progress item — last sequence, watermark, close mark and pending
 * windows. The close mark rises to the pipeline watermark this commit sees, so a window closes once every
 * shard has committed after the watermark passed it (or gone idle, see the tick).
 */
import { MAX_REJECTED_DATA_CHARS } from '../codec/payloadCodec';
import {
  REJECT_REASONS,
  type EpochMillis,
  type RawRecord,
  type Rejection,
  type WindowBounds,
  type WindowPartial,
} from '../types';
import { dedupeHash, NO_SEQUENCE, segmentTtl, windowId } from './keys';
import { addPending, prunePending, type PendingRule } from './pendingWindows';
import { encodeSegment } from './segmentCodec';
import type { PreparedRecords } from '../engine/types';
import type {
  CommitOutputs,
  KeyPartial,
  OutputSweep,
  PipelineProgress,
  Segment,
  ShardProgress,
  WindowContribution,
} from './types';
import { addCounts } from './shardCounts';
import { closedEndOf, raisedClosedEnd, startingMarks } from './closeableThrough';
import { pipelineWatermark } from '../watermark/pipelineWatermark';
import { padSequence } from '../sequence';

/** Everything a commit is built from. */
export interface CommitInput {
  readonly pipeline: string;
  readonly shardId: string;
  /** The stored progress the commit builds on (undefined: the shard's first item). */
  readonly base: ShardProgress | undefined;
  /** The other shards, as read with `base` (for the pipeline watermark). */
  readonly others: readonly ShardProgress[];
  readonly pipelineProgress: PipelineProgress | undefined;
  /** The shard's records above its last sequence, in sequence order. */
  readonly fresh: readonly RawRecord[];
  readonly prepared: PreparedRecords;
  readonly partials: readonly WindowPartial[];
  /** Records of `fresh` that dedupe dropped (producer duplicates). */
  readonly duplicates: number;
  /** Names of the commit's side outputs. */
  readonly outputs: CommitOutputs;
  /** For a shard's first commit: the shards it was split or merged from. */
  readonly parents?: readonly string[];
  /** The side-output sweep mark the commit carries (`outputSweep.ts`). */
  readonly sweep?: OutputSweep;
  readonly now: EpochMillis;
  readonly maxOutOfOrdernessMs: number;
  /** The committing definition's allowed lateness (what its close mark promises in window ends). */
  readonly allowedLatenessMs: number;
  readonly idleTimeoutMs: number;
  readonly expectedShards: number;
  readonly retentionMs: number;
  /** How partials map to pending windows (fixed windows, or session buckets). */
  readonly rule: PendingRule;
  /** State fingerprint of the committing definition, stored on the segment and the progress item. */
  readonly shape?: string;
}

/** A commit ready to send. */
export interface BuiltCommit {
  readonly progress: ShardProgress;
  readonly segment: Omit<Segment, 'attempt'> | undefined;
  readonly dedupeHashes: readonly string[];
  /** (key, window) partials with records in the segment. */
  readonly partials: number;
}

/**
 * The close marks a shard starts from, or has (`frozen`, and `closedEnd` in window ends): a new shard starts
 * at the pipeline's (`startingMarks`).
 */
export function judgedBy(
  base: ShardProgress | undefined,
  pipelineProgress: PipelineProgress | undefined,
  allowedLatenessMs: number,
): { readonly frozen: EpochMillis; readonly closedEnd: EpochMillis } {
  return base === undefined
    ? startingMarks(pipelineProgress, allowedLatenessMs)
    : { frozen: base.frozen, closedEnd: closedEndOf(base, allowedLatenessMs) };
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/**
 * The batch's contributions per window (a session's partial under its bucket, with its bounds), windows by
 * start and partials by key then session start (the stored order).
 */
function contributions(partials: readonly WindowPartial[], rule: PendingRule): WindowContribution[] {
  const byWindow = new Map<string, { window: WindowBounds; partials: KeyPartial[] }>();
  for (const partial of partials) {
    if (partial.records === 0) continue; // only dropped duplicates: nothing to add
    const window = rule.windowOf(partial.window);
    const id = windowId(window);
    let entry = byWindow.get(id);
    if (entry === undefined) byWindow.set(id, (entry = { window, partials: [] }));
    const kept = { key: partial.key, records: partial.records, state: partial.state };
    entry.partials.push(rule.sessions ? { ...kept, session: partial.window } : kept);
  }
  const out = [...byWindow.values()].sort(
    (a, b) => a.window.start - b.window.start || a.window.end - b.window.end,
  );
  for (const entry of out)
    entry.partials.sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : (a.session?.start ?? 0) - (b.session?.start ?? 0),
    );
  return out;
}

/**
 * When the newest window (or session) the shard holds after this commit closes, on a watermark that keeps
 * up with the clock: the latest end among the commit's partials and the shard's pending windows, plus the
 * allowed lateness and the out-of-orderness the watermark trails by. A segment is kept `retentionMs` after
 * that, not after the commit, so a long window or lateness (a daily window that takes a week of late data)
 * still finds every commit's state when it closes. Counting the pending windows keeps a shard's segment TTLs
 * rising with its commits (a commit of only older windows expires no sooner than the ones before it), which
 * `segmentAttempts.ts` relies on: an expired attempt entry says every earlier commit has expired too.
 */
function latestClose(input: CommitInput, pending: readonly WindowBounds[]): EpochMillis {
  let end = -Infinity;
  for (const p of input.partials) if (p.records > 0 && p.window.end > end) end = p.window.end;
  for (const w of pending) if (w.end > end) end = w.end;
  return end + input.allowedLatenessMs + input.maxOutOfOrdernessMs;
}

export function buildCommit(input: CommitInput): BuiltCommit {
  const { base, prepared, fresh } = input;
  const windows = contributions(input.partials, input.rule);
  const dedupeHashes = [...new Set(input.partials.flatMap((p) => p.dedupeIds ?? []))].map(dedupeHash);
  // Every commit writes a segment, also one with nothing to add (every record rejected, late or a
  // duplicate): the segments' sequence ranges are the shard's commit log, which tells a replay of a batch
  // Lambda skipped which of its records were applied.
  const hasSegment = fresh.length > 0;
  const commits = (base?.commits ?? 0) + (hasSegment ? 1 : 0);
  const bound = input.rule.bound(input.pipelineProgress);
  const pending = hasSegment
    ? addPending(
        base?.pending ?? [],
        windows.map((w) => w.window),
        commits,
        bound,
        input.rule.valueOf,
      )
    : prunePending(base?.pending ?? [], bound, input.rule.valueOf);
  const summary = prepared.shards[input.shardId];
  const maxEventTime = maxOrNull(base?.maxEventTime ?? null, summary?.maxEventTime ?? null);
  const last = fresh[fresh.length - 1];
  const lastSequence =
    last === undefined ? (base?.lastSequence ?? NO_SEQUENCE) : padSequence(last.sequenceNumber);
  const judged = judgedBy(base, input.pipelineProgress, input.allowedLatenessMs);
  const unfrozen: ShardProgress = {
    pipeline: input.pipeline,
    shardId: input.shardId,
    watermark: maxEventTime === null ? null : maxEventTime - input.maxOutOfOrdernessMs,
    maxEventTime,
    lastSequence: base !== undefined && base.lastSequence > lastSequence ? base.lastSequence : lastSequence,
    lastActivity: Math.max(base?.lastActivity ?? input.now, input.now),
    closed: base?.closed ?? false,
    frozen: judged.frozen,
    closedEnd: judged.closedEnd,
    commits,
    // Which attempt each earlier commit's segment is (`segmentAttempts.ts`): readers need it as long as the
    // record keeps it.
    ...(base?.attempts !== undefined ? { attempts: base.attempts } : {}),
    ...(base?.attemptsFrom !== undefined ? { attemptsFrom: base.attemptsFrom } : {}),
    pending,
    outputs: input.outputs,
    ...(input.sweep !== undefined ? { sweep: input.sweep } : {}),
    counts: addCounts(base?.counts, {
      records: fresh.length,
      rejected: prepared.rejected.length,
      late: prepared.late.length,
      duplicates: input.duplicates,
      // Every value this commit puts, producer duplicates included where no dedupe state drops them (publish-only).
      ...(prepared.published.length > 0 ? { published: prepared.published.length } : {}),
      ...(prepared.operators.length > 0 ? { operators: prepared.operators } : {}),
    }),
    ...stateLimitedAfter(base, prepared.rejected, input.now, input.retentionMs),
    ...(base?.parents !== undefined
      ? { parents: base.parents }
      : input.parents !== undefined && input.parents.length > 0
        ? { parents: input.parents }
        : {}),
    // The definition that made this commit (the shard's last); a commit without one keeps the stored one.
    ...(input.shape !== undefined
      ? { shape: input.shape }
      : base?.shape !== undefined
        ? { shape: base.shape }
        : {}),
    version: (base?.version ?? 0) + 1,
  };
  const watermark = pipelineWatermark(
    [...input.others, unfrozen],
    input.now,
    input.idleTimeoutMs,
    input.expectedShards,
  );
  const frozen = Math.max(unfrozen.frozen, watermark);
  const progress = {
    ...unfrozen,
    frozen,
    closedEnd: raisedClosedEnd(unfrozen, frozen, input.allowedLatenessMs),
  };
  const first = fresh[0];
  const segment: Omit<Segment, 'attempt'> | undefined =
    hasSegment && first !== undefined
      ? {
          pipeline: input.pipeline,
          shardId: input.shardId,
          commit: commits,
          firstSequence: padSequence(first.sequenceNumber),
          lastSequence,
          body: encodeSegment({ windows, dedupeHashes }),
          ttl: segmentTtl(Math.max(input.now, latestClose(input, pending)), input.retentionMs),
          judgedBy: input.outputs.judgedBy,
          ...(input.shape !== undefined ? { shape: input.shape } : {}),
        }
      : undefined;
  return { progress, segment, dedupeHashes, partials: windows.reduce((n, w) => n + w.partials.length, 0) };
}

/** How many of a shard's `STATE_LIMIT` records its progress names (`ShardProgress.stateLimited`). */
export const MAX_STATE_LIMITED = 64;

/**
 * The shard's `stateLimited` after a commit at `now` that rejected `rejected`: the stored entries not expired
 * at `now`, then this commit's `STATE_LIMIT` records (expiring with its segment, `segmentTtl`), the latest
 * {@link MAX_STATE_LIMITED} kept. Expired entries go, so a shard that once dead-lettered such a record does not
 * carry it in every later write of its progress.
 */
export function stateLimitedAfter(
  base: ShardProgress | undefined,
  rejected: readonly Rejection[],
  now: EpochMillis,
  retentionMs: number,
): Pick<ShardProgress, 'stateLimited'> {
  const nowSeconds = Math.floor(now / 1000);
  const expiresAt = segmentTtl(now, retentionMs);
  const added = rejected
    .filter((r) => r.reason === REJECT_REASONS.STATE_LIMIT)
    .map((r) => [padSequence(r.sequenceNumber), expiresAt] as const);
  const list = [...(base?.stateLimited ?? []).filter(([, until]) => until > nowSeconds), ...added].slice(
    -MAX_STATE_LIMITED,
  );
  return list.length === 0 ? {} : { stateLimited: list };
}

/** A record whose state alone cannot fit one commit: dead-lettered naming the limit. */
export function stateLimitRejection(record: RawRecord, detail: string): Rejection {
  return {
    reason: REJECT_REASONS.STATE_LIMIT,
    detail,
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    ...(record.subSequenceNumber !== undefined ? { subSequenceNumber: record.subSequenceNumber } : {}),
    partitionKey: record.partitionKey,
    data:
      record.data.length > MAX_REJECTED_DATA_CHARS
        ? record.data.slice(0, MAX_REJECTED_DATA_CHARS)
        : record.data,
  };
}
