/**
 * What a savepoint holds (the cut of a pipeline's state) and whether one may be restored into a table.
 *
 * **One moment of the commit chain.** The cut is the pipeline's progress partition (`P#<pipeline>`: every
 * shard's progress item with its sequence fence and pending windows, the pipeline item with the close marks,
 * the registered shapes) as it stood at one moment, plus the segment chunks its shard items name. The edge
 * reads the partition atomically: one `TransactGetItems` of every key, between two key listings that agree
 * (no shard item appeared meanwhile), or, past the 100 items one transaction reads, two strongly consistent
 * reads that agree item for item (`sameCollect`: every progress item's version only grows, the pipeline's
 * marks only rise, shapes never change, so two equal reads saw each item unchanged over the moment between
 * them). That is enough for the rest: a segment is written before the commit that names it and never
 * rewritten, and a shard item names exactly one attempt of each of its commits (`segmentAttempts.ts`). So
 * reading afterwards, strongly consistent, the attempts of commits `attemptsFrom..commits` the cut's items
 * name gives their content at the cut's moment, whatever commits followed: a concurrent commit is either in
 * the cut with its segment, or not at all (its segment is an attempt of a commit above the cut's `commits`,
 * never read). The pipeline item comes from the same atomic read, so the close marks agree with every
 * shard's pending windows and close mark: no window is both emitted and pending, none is half restored.
 *
 * The cut keeps every committed segment still stored (not only those of open windows): the commit log
 * (`commitLog.ts`) and the output sweep read back over the whole chain. Attempts no commit named are left out.
 */
import { InvalidOptionError } from '../errors';
import { StateError } from './errors';
import {
  NO_SEQUENCE,
  parseSegmentSortKey,
  PIPELINE_SORT_KEY,
  progressPartitionKey,
  segmentPartitionKey,
  shardSortKey,
} from './keys';
import {
  SAVEPOINT_FORMAT,
  SAVEPOINT_VERSION,
  SavepointInvalidError,
  savepointItemLine,
  type SavepointManifest,
} from './savepointFormat';
import { committedAttempt } from './segmentAttempts';
import { segmentsFromItems } from './segmentItems';
import {
  isPipelineItem,
  isShapeItem,
  itemKey,
  progressFromItem,
  progressToItem,
  snapshotFromItems,
  type StateItem,
} from './stateItems';
import type { ProgressSnapshot, ShardProgress } from './types';
import { checkUpgrade, type UpgradeTarget } from './upgradeCheck';
import { STATE_CHANGE } from './stateFingerprint';

/** A savepoint cannot be taken or restored (one line, with the next step). */
export class SavepointError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SavepointError';
  }
}

/** A stream by name and creation time: one of the same name created later is another stream. */
export interface StreamIdentity {
  readonly name: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** The commits of one shard a cut reads the segments of. */
export interface SegmentRange {
  readonly shard: ShardProgress;
  readonly from: number;
  readonly to: number;
}

/** Items compared by content: their savepoint lines, in key order. */
function keyed(items: readonly StateItem[]): Map<string, string> {
  return new Map(
    items.map((item) => {
      const { pk, sk } = itemKey(item);
      return [`${pk}\u0000${sk}`, savepointItemLine(item)];
    }),
  );
}

/** Whether two reads of a progress partition returned the same items (a double collect that agrees). */
export function sameCollect(a: readonly StateItem[], b: readonly StateItem[]): boolean {
  const left = keyed(a);
  const right = keyed(b);
  return left.size === right.size && [...left].every(([key, line]) => right.get(key) === line);
}

/** The segment commits a cut of `progressItems` reads, shard by shard. */
export function segmentRanges(progressItems: readonly StateItem[]): SegmentRange[] {
  return snapshotFromItems(progressItems)
    .shards.map((shard) => ({ shard, from: shard.attemptsFrom ?? 1, to: shard.commits }))
    .filter((range) => range.to >= range.from);
}

/**
 * The items of the cut: the progress partition as read, then each shard's committed segment chunks among
 * `segmentItems` (all chunks of its range, as a range query returns them), in key order.
 *
 * @throws SavepointError when a segment a pending window needs is missing (expired, or a damaged table).
 */
export function cutItems(
  progressItems: readonly StateItem[],
  segmentItems: ReadonlyMap<string, readonly StateItem[]>,
): StateItem[] {
  const out = [...progressItems].sort(byKey);
  for (const { shard, named, missing } of committedSegments(progressItems, segmentItems)) {
    if (missing !== undefined)
      throw new SavepointError(
        `Segment ${missing} of shard ${shard.shardId} is not in the state table though a pending window needs it: the table is damaged; a savepoint of it would not restore`,
      );
    out.push(...[...named].sort(byKey));
  }
  return out;
}

/**
 * Per shard of `progressItems`: its committed segment chunks among `segmentItems` (by shard id), and the
 * first commit a pending window needs whose segment is not whole among them (undefined: none missing).
 */
function committedSegments(
  progressItems: readonly StateItem[],
  segmentItems: ReadonlyMap<string, readonly StateItem[]>,
): { shard: ShardProgress; named: StateItem[]; missing: number | undefined }[] {
  return segmentRanges(progressItems).map(({ shard, from }) => {
    const named = (segmentItems.get(shard.shardId) ?? []).filter((item) => {
      const key = parseSegmentSortKey(itemKey(item).sk);
      return key !== undefined && key.commit >= from && key.attempt === committedAttempt(shard, key.commit);
    });
    // Reassembling checks every named attempt is whole.
    const present = new Set(
      segmentsFromItems(shard.pipeline, shard.shardId, [...named].sort(byKey), (c) =>
        committedAttempt(shard, c),
      ).map((s) => s.commit),
    );
    const needed = Math.min(...shard.pending.map((w) => w.firstCommit), Infinity);
    let missing: number | undefined;
    for (let commit = Math.max(needed, from); commit <= shard.commits && missing === undefined; commit++)
      if (!present.has(commit)) missing = commit;
    return { shard, named, missing };
  });
}

const byKey = (a: StateItem, b: StateItem): number => {
  const ka = itemKey(a);
  const kb = itemKey(b);
  return ka.pk < kb.pk ? -1 : ka.pk > kb.pk ? 1 : ka.sk < kb.sk ? -1 : ka.sk > kb.sk ? 1 : 0;
};

/** The manifest of a cut of `pipeline` (without the file's checksum, which the encoder adds). */
export function savepointManifest(options: {
  /** The definition the savepoint is taken with: its name, fingerprint and close rule (open windows). */
  readonly definition: UpgradeTarget;
  readonly stream: StreamIdentity;
  readonly takenAt: number;
  readonly items: readonly StateItem[];
  readonly file: { readonly bytes: number; readonly sha256: string };
}): SavepointManifest {
  const pipeline = options.definition.spec.name;
  const partition = progressPartitionKey(pipeline);
  const progress = options.items.filter((item) => itemKey(item).pk === partition);
  const snapshot = snapshotFromItems(progress);
  const fingerprints = new Set<string>(snapshot.shapes?.keys() ?? []);
  for (const shard of snapshot.shards) if (shard.shape !== undefined) fingerprints.add(shard.shape);
  if (!Number.isSafeInteger(options.takenAt) || options.takenAt < 0)
    throw new InvalidOptionError(`takenAt must be epoch milliseconds (given ${options.takenAt})`);
  return {
    format: SAVEPOINT_FORMAT,
    version: SAVEPOINT_VERSION,
    pipeline,
    stream: options.stream.name,
    streamCreatedAt: options.stream.createdAt,
    takenAt: options.takenAt,
    definitionFingerprint: options.definition.stateFingerprint,
    fingerprints: [...fingerprints].sort(),
    shards: snapshot.shards
      .map((s) => ({
        shardId: s.shardId,
        lastSequence: s.lastSequence,
        commits: s.commits,
        closed: s.closed,
      }))
      .sort((a, b) => (a.shardId < b.shardId ? -1 : a.shardId > b.shardId ? 1 : 0)),
    openWindows: checkUpgrade(snapshot, options.definition).openWindows,
    resumeAt: resumeAt(snapshot.shards),
    items: {
      count: options.items.length,
      segmentChunks: options.items.length - progress.length,
      bytes: options.file.bytes,
      sha256: options.file.sha256,
    },
  };
}

/** Arrival times are approximate: a start this much earlier still reads every record after each position. */
const RESUME_MARGIN_MS = 5 * 60_000;

/**
 * The latest arrival time a new mapping may start at and still read every record after each shard's
 * position: the earliest arrival of a shard's last commit's first record (its side outputs' date), less a
 * margin; null when a shard has no commit with records (it needs the trim horizon).
 */
function resumeAt(shards: readonly ShardProgress[]): number | null {
  let earliest = Infinity;
  for (const shard of shards) {
    if (shard.closed) continue;
    if (shard.outputs === undefined) return null;
    earliest = Math.min(earliest, shard.outputs.time);
  }
  return earliest === Infinity ? null : Math.max(0, earliest - RESUME_MARGIN_MS);
}

/**
 * Checks that the decoded `items` are the state of the manifest's pipeline and shards, and nothing else:
 * every key in its partitions, every shard item at the position the manifest names. Returns the snapshot
 * the progress items hold.
 */
export function savedSnapshot(manifest: SavepointManifest, items: readonly StateItem[]): ProgressSnapshot {
  const partition = progressPartitionKey(manifest.pipeline);
  const shards = new Map(manifest.shards.map((s) => [s.shardId, s]));
  const segmentPartitions = new Map(
    manifest.shards.map((s) => [segmentPartitionKey(manifest.pipeline, s.shardId), s.shardId]),
  );
  const progress: StateItem[] = [];
  const seen = new Set<string>();
  const segments = new Map<string, StateItem[]>();
  for (const item of items) {
    const { pk, sk } = itemKey(item);
    const key = `${pk}\u0000${sk}`;
    if (seen.has(key))
      throw new SavepointInvalidError(
        `Savepoint item ${pk.slice(0, 80)} ${sk.slice(0, 40)} is in it twice: it is not one cut of the table`,
      );
    seen.add(key);
    if (pk === partition) {
      const known =
        sk === PIPELINE_SORT_KEY ||
        isShapeItem(item) ||
        [...shards.keys()].some((shardId) => shardSortKey(shardId) === sk);
      if (!known) throw new SavepointInvalidError(`Savepoint item ${pk} ${sk} is no item of its pipeline`);
      progress.push(item);
    } else if (!segmentPartitions.has(pk) || !/^\d{12}#\d{4}#\d{4}$/.test(sk)) {
      throw new SavepointInvalidError(
        `Savepoint item ${pk.slice(0, 80)} ${sk.slice(0, 40)} is not state of pipeline ${manifest.pipeline}`,
      );
    } else {
      const shardId = segmentPartitions.get(pk)!;
      const list = segments.get(shardId);
      if (list === undefined) segments.set(shardId, [item]);
      else list.push(item);
    }
  }
  let snapshot: ProgressSnapshot;
  try {
    snapshot = snapshotFromItems(progress);
  } catch (error) {
    throw new SavepointInvalidError(`A saved progress item is not readable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const positions = snapshot.shards.every((s) => {
    const saved = shards.get(s.shardId);
    return saved !== undefined && saved.lastSequence === s.lastSequence && saved.commits === s.commits;
  });
  if (!positions || snapshot.shards.length !== shards.size)
    throw new SavepointInvalidError('The saved shard items do not match the positions the manifest names');
  let incomplete: { shard: ShardProgress; missing: number | undefined } | undefined;
  try {
    incomplete = committedSegments(progress, segments).find((s) => s.missing !== undefined);
  } catch (error) {
    throw new SavepointInvalidError(`A saved segment is not readable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (incomplete !== undefined)
    throw new SavepointInvalidError(
      `The savepoint lacks segment ${incomplete.missing} of shard ${incomplete.shard.shardId}, which a pending window needs: it is not one cut of the table`,
    );
  return snapshot;
}

/** One put of a restore: conditioned on the key's absence, or on the stored item's `version`. */
export interface RestoreWrite {
  readonly item: StateItem;
  readonly expectedVersion?: number;
}

/**
 * Whether a progress-partition item holds no state: a shard item the tick registered before any commit (a
 * new stack's tick does that while its mapping waits for the restore).
 */
export function holdsNoState(item: StateItem): boolean {
  if (!itemKey(item).sk.startsWith('S#')) return false;
  try {
    const progress = progressFromItem(item);
    return progress.commits === 0 && progress.pending.length === 0 && progress.lastSequence === NO_SEQUENCE;
  } catch {
    return false;
  }
}

/**
 * The puts that restore `items` over a progress partition holding `existing` (which `restoreRefusal`
 * accepted), in order: segments, shapes, the pipeline item, then shard items. A shard item names its
 * segments and is what makes them state, so shard items go last: a restore cut short leaves nothing that
 * names a missing item. A registered shard item that holds no state is replaced, conditioned on its
 * version; one of a shard the savepoint does not know (split off after it) keeps its place, with its close
 * marks raised to the restored `closedWatermark` and `closedEnd` (as a shard's first commit would start from
 * them).
 */
export function restoreWrites(items: readonly StateItem[], existing: readonly StateItem[]): RestoreWrite[] {
  const rank = (item: StateItem): number =>
    isShapeItem(item) ? 1 : isPipelineItem(item) ? 2 : itemKey(item).pk.startsWith('P#') ? 3 : 0;
  const keyOf = (item: StateItem): string => `${itemKey(item).pk}\u0000${itemKey(item).sk}`;
  const registered = new Map(existing.filter(holdsNoState).map((item) => [keyOf(item), item]));
  const restored = snapshotFromItems(items.filter(isPipelineItem)).pipeline;
  const closed = restored?.closedWatermark ?? -Infinity;
  const closedEnd = restored?.closedEnd;
  const writes: RestoreWrite[] = items.map((item) => {
    const stored = registered.get(keyOf(item));
    registered.delete(keyOf(item));
    return stored === undefined ? { item } : { item, expectedVersion: progressFromItem(stored).version };
  });
  for (const stored of registered.values()) {
    const { closedEnd: ownEnd, ...progress } = progressFromItem(stored);
    // A savepoint without the pipeline's closedEnd (taken before it was kept): the shard's own goes too, so
    // it reads as its raised `frozen` under the running lateness (it holds no state).
    const end = closedEnd === undefined ? undefined : Math.max(ownEnd ?? -Infinity, closedEnd);
    if (progress.frozen >= closed && end === ownEnd) continue;
    writes.push({
      item: progressToItem({
        ...progress,
        frozen: Math.max(progress.frozen, closed),
        ...(end !== undefined ? { closedEnd: end } : {}),
        version: progress.version + 1,
      }),
      expectedVersion: progress.version,
    });
  }
  return writes.sort((a, b) => rank(a.item) - rank(b.item) || byKey(a.item, b.item));
}

/**
 * Why `items` (a savepoint of `manifest`, checked by `savedSnapshot`) must not be restored into a table
 * whose progress partition of the pipeline holds `existing`, under the `target` definition; undefined when
 * it may. A partition holding only items of this savepoint (a restore cut short: it may go on) and shard
 * items that hold no state (`holdsNoState`) is not refused.
 */
export function restoreRefusal(options: {
  readonly manifest: SavepointManifest;
  readonly snapshot: ProgressSnapshot;
  readonly items: readonly StateItem[];
  readonly existing: readonly StateItem[];
  readonly target: UpgradeTarget;
  readonly table: string;
  /** The stream the target pipeline reads. */
  readonly stream: StreamIdentity;
}): string | undefined {
  const { manifest, target, table, stream } = options;
  if (manifest.pipeline !== target.spec.name)
    return `The savepoint is of pipeline ${manifest.pipeline}, not ${target.spec.name}: restore it with --pipeline ${manifest.pipeline}`;
  if (stream.name !== manifest.stream || stream.createdAt !== manifest.streamCreatedAt)
    return `The savepoint's shard positions are in stream ${manifest.stream} created at ${new Date(manifest.streamCreatedAt).toISOString()}; the target reads ${stream.name} created at ${new Date(stream.createdAt).toISOString()}, whose sequence numbers they are not: restore it where the saved stream is read`;
  const saved = keyed(options.items);
  const foreign = [...keyed(options.existing.filter((item) => !holdsNoState(item)))].filter(
    ([key, line]) => saved.get(key) !== line,
  );
  if (foreign.length > 0)
    return `Table ${table} already holds state of pipeline ${manifest.pipeline} (${foreign.length} progress item${foreign.length === 1 ? '' : 's'} not from this savepoint): restore into a table without it (a new stack), or delete the items of partition ${progressPartitionKey(manifest.pipeline)} first`;
  const check = checkUpgrade(options.snapshot, target);
  if (check.change.kind === STATE_CHANGE.INCOMPATIBLE && check.openWindows > 0)
    return `The savepoint holds ${check.openWindows} open windows the target definition cannot read (${check.change.reasons.join('; ')}): restore it with the definition it was taken with (fingerprint ${manifest.definitionFingerprint})`;
  return undefined;
}
