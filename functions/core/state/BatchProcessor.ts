/**
 * The exactly-once apply path (DESIGN.md §3): one instance per warm Lambda instance (or bounded run),
 * driving a pipeline against a `StateStore` and an `ObjectStore`. Every effect is keyed by record position
 * and fenced by a stored high-water mark, so any redelivery (whole batch, bisected halves, duplicates)
 * and any crash between two steps leaves the same end state as one clean delivery.
 */
import type { Clock, EpochMillis, Fence, LateRecord, RawRecord, ResultRow, ShardProgress, WindowBounds, WindowPartial, WindowStateItem } from '../types';
import { WINDOW_STATUS } from '../types';
import { mapWithConcurrency } from './concurrency';
import { BatchApplyError, StateConflictError, StateContentionError, StateError } from './errors';
import { isFenced, mergeFences } from './fence';
import { NO_SEQUENCE, SeenIdSet, dedupeHash, emissionId, padSequenceNumber, windowId, windowTtl } from './keys';
import { batchObjectKey, batchObjectPrefix, resultObjectKey, type SideOutput } from './paths';
import type { DueWindow, ObjectStore, PreparedBatch, ResultEncoder, StatefulPipeline, StateStore, WindowRef } from './types';
import { effectiveWatermark } from './watermark';

/** Settings of a `BatchProcessor`. */
export interface BatchProcessorOptions {
  /**
   * How long window items are kept after they may close (DynamoDB TTL).
   * @default 7 days
   */
  readonly retentionMs?: number;
  /**
   * Attempts of one conditional write under contention before the batch fails (1–50).
   * @default 8
   */
  readonly maxConflictRetries?: number;
  /**
   * Window writes and emissions in flight at once (1–100).
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Windows emitted per close pass; the rest are left for the next invocation or tick (1–10000).
   * @default 500
   */
  readonly maxEmitPerPass?: number;
  /**
   * Waits before retrying a conditional write that lost (`attempt` ≥ 1), so writers of other shards
   * racing on the same item spread out instead of colliding again.
   * @default full jitter, uniform in [0, 4 ms · 2^attempt)
   */
  readonly conflictBackoff?: (attempt: number) => Promise<void>;
}

/** What applying one batch did. */
export interface BatchResult {
  readonly recordsIn: number;
  /** Records skipped because their shard progress already covered them (redelivery). */
  readonly duplicates: number;
  /**
   * Producer duplicates dropped by the pipeline's `dedupeBy` (the id was already counted in the window),
   * as judged against the items read at the start of the batch.
   */
  readonly duplicateEvents: number;
  readonly rejected: number;
  readonly late: number;
  readonly windowsWritten: number;
  readonly windowsEmitted: number;
  /** Conditional writes of this batch's partials that lost and were re-merged (emission races excluded). */
  readonly conflicts: number;
  /** Pipeline watermark after the batch (-Infinity before any event time was seen). */
  readonly watermark: EpochMillis;
}

/** What one close pass did. */
export interface CloseResult {
  readonly watermark: EpochMillis;
  readonly windowsEmitted: number;
}

interface Dependencies {
  readonly pipeline: StatefulPipeline;
  readonly store: StateStore;
  readonly objects: ObjectStore;
  readonly encoder: ResultEncoder;
  readonly clock: Clock;
}

const DAY_MS = 86_400_000;

/** Passes over one batch when windows keep closing under it, before the batch fails (and is redelivered). */
const MAX_APPLY_PASSES = 5;

/**
 * What the batch read changed before it could be applied (a window closed under it, or the windows of its
 * late records were frozen): apply it again from a fresh read.
 */
class ReapplyBatchError extends StateError {
  public constructor(message: string) {
    super(message);
    this.name = 'ReapplyBatchError';
  }
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer between ${min} and ${max} inclusive (given ${value})`);
  }
  return value;
}

function jsonLines(values: readonly unknown[]): string {
  return values.map((value) => JSON.stringify(value)).join('\n') + '\n';
}

export class BatchProcessor {
  readonly #deps: Dependencies;
  readonly #name: string;
  readonly #retentionMs: number;
  readonly #maxConflictRetries: number;
  readonly #concurrency: number;
  readonly #maxEmitPerPass: number;
  readonly #conflictBackoff: (attempt: number) => Promise<void>;
  /** Provisioned shard count of the source: the watermark waits until that many shards are known. */
  readonly #expectedShards: number;
  /** Earliest close time of any window this instance knows to be open; -Infinity forces a look. */
  #nextCloseAt: EpochMillis = -Infinity;

  public constructor(deps: Dependencies, options: BatchProcessorOptions = {}) {
    this.#deps = deps;
    this.#name = deps.pipeline.spec.name;
    this.#expectedShards = deps.pipeline.spec.source.shards ?? 0;
    if (deps.pipeline.spec.window.kind === 'session') {
      // Stored sessions would have to be merged with overlapping new ones (and their items deleted);
      // until that exists, refuse rather than emit split sessions.
      throw new StateError(`Pipeline ${this.#name} uses session windows, which the exactly-once state layer does not support yet`);
    }
    this.#retentionMs = options.retentionMs ?? 7 * DAY_MS;
    if (!(this.#retentionMs >= 0)) throw new RangeError(`retentionMs must be non-negative (given ${this.#retentionMs})`);
    this.#maxConflictRetries = checkRange('maxConflictRetries', options.maxConflictRetries ?? 8, 1, 50);
    this.#concurrency = checkRange('concurrency', options.concurrency ?? 16, 1, 100);
    this.#maxEmitPerPass = checkRange('maxEmitPerPass', options.maxEmitPerPass ?? 500, 1, 10_000);
    this.#conflictBackoff = options.conflictBackoff ?? ((attempt) => new Promise((resolve) => setTimeout(resolve, Math.random() * 4 * 2 ** attempt)));
  }

  /**
   * Applies one batch (records of one shard in sequence order, as Lambda delivers them) and closes the
   * windows that became due. Throws `BatchApplyError`; `recordsApplied` says whether the records are in.
   */
  public async apply(records: readonly RawRecord[]): Promise<BatchResult> {
    let result: Omit<BatchResult, 'windowsEmitted'>;
    const conflictsBefore = this.#deps.store.stats.conflicts;
    try {
      result = { ...(await this.#applyRecordsUntilStable(records)), conflicts: 0 };
      result = { ...result, conflicts: this.#deps.store.stats.conflicts - conflictsBefore };
    } catch (error) {
      throw new BatchApplyError(`Applying a batch of ${records.length} records of pipeline ${this.#name} failed`, false, { cause: error });
    }
    if (result.watermark < this.#nextCloseAt) return { ...result, windowsEmitted: 0 };
    try {
      const closed = await this.#closeDue(result.watermark);
      return { ...result, windowsEmitted: closed };
    } catch (error) {
      throw new BatchApplyError(`Closing windows of pipeline ${this.#name} failed after the batch was applied`, true, { cause: error });
    }
  }

  /**
   * The scheduled tick: lets idle shards stop holding the watermark back (by the clock), closes every due
   * window and finishes emissions a crash left in `emitting`. `watermarkOverride` (e.g. +Infinity at the
   * end of bounded input) closes everything up to it.
   */
  public async tick(watermarkOverride?: EpochMillis, options: { readonly shardIds?: readonly string[] } = {}): Promise<CloseResult> {
    let snapshot = await this.#deps.store.readProgress(this.#name);
    const unknown = (options.shardIds ?? []).filter((id) => !snapshot.shards.some((shard) => shard.shardId === id));
    if (unknown.length > 0) {
      await this.#registerShards(unknown);
      snapshot = await this.#deps.store.readProgress(this.#name);
    }
    const watermark = watermarkOverride ?? effectiveWatermark(snapshot, this.#deps.clock.now(), this.#deps.pipeline.spec.time.idleTimeoutMs, this.#expectedShards);
    const windowsEmitted = await this.#closeDue(watermark);
    return { watermark, windowsEmitted };
  }

  /**
   * Creates progress items for shards that have delivered nothing yet: they hold the watermark back
   * until they go idle, instead of being absent and finding their windows closed.
   */
  async #registerShards(shardIds: readonly string[]): Promise<void> {
    const now = this.#deps.clock.now();
    await mapWithConcurrency(shardIds, this.#concurrency, async (shardId) => {
      const progress: ShardProgress = { pipeline: this.#name, shardId, watermark: null, maxEventTime: null, lastSequence: NO_SEQUENCE, archivedSequence: NO_SEQUENCE, lastActivity: now, closed: false, version: 1 };
      await this.#deps.store.writeShardProgress(progress, undefined).catch((error: unknown) => {
        if (!(error instanceof StateConflictError)) throw error; // registered meanwhile by its first batch
      });
    });
  }

  /**
   * Applies the batch; when a window closed while the batch was in flight (or its late records' windows
   * had to be frozen first), applies it again from a fresh progress read. The closer raises the stored
   * closed watermark before it claims any window, so the next pass sees those records as late and writes
   * them to `late/` with the batch's other late records (one object per shard and batch, as any
   * redelivery writes it); partials already written are fenced and skipped. Each pass re-reads a closed
   * watermark that only rises and finds the windows it froze frozen, so this ends within a few passes.
   */
  async #applyRecordsUntilStable(records: readonly RawRecord[]): Promise<Omit<BatchResult, 'windowsEmitted' | 'conflicts'>> {
    for (let pass = 1; ; pass += 1) {
      try {
        return await this.#applyRecords(records);
      } catch (error) {
        if (!(error instanceof ReapplyBatchError) || pass >= MAX_APPLY_PASSES) throw error;
      }
    }
  }

  async #applyRecords(records: readonly RawRecord[]): Promise<Omit<BatchResult, 'windowsEmitted' | 'conflicts'>> {
    const { pipeline, store, clock } = this.#deps;
    const snapshot = await store.readProgress(this.#name);
    const now = clock.now();
    const progressByShard = new Map(snapshot.shards.map((shard) => [shard.shardId, shard]));
    const fresh = records.filter((record) => !isFenced(this.#lastSequences(progressByShard), record.shardId, padSequenceNumber(record.sequenceNumber)));
    const duplicates = records.length - fresh.length;
    const base = { recordsIn: records.length, duplicates };
    if (fresh.length === 0) {
      return { ...base, duplicateEvents: 0, rejected: 0, late: 0, windowsWritten: 0, watermark: effectiveWatermark(snapshot, now, pipeline.spec.time.idleTimeoutMs, this.#expectedShards) };
    }

    const closedWatermark = effectiveWatermark(snapshot, now, pipeline.spec.time.idleTimeoutMs, this.#expectedShards);
    const prepared = pipeline.prepare(fresh, { closedWatermark });
    const lateRefs = prepared.late.map((late) => ({ key: late.key, window: { start: late.windowStart, end: late.windowEnd } }));
    // No shard has applied an event at or after this time: a window starting later cannot have an item
    // yet, so it is not read (saves the BatchGetItem when a batch opens new windows). Should another shard
    // create it meanwhile, the create-only write fails with the item and the partial is re-merged.
    const horizon = Math.max(-Infinity, ...snapshot.shards.map((shard) => shard.maxEventTime ?? -Infinity));
    const lateIds = new Set(lateRefs.map((ref) => windowId(this.#name, ref.key, ref.window)));
    const isLateWindow = (ref: WindowRef): boolean => lateIds.has(windowId(this.#name, ref.key, ref.window));
    const items = await store.readWindows(this.#name, [...prepared.groups, ...lateRefs], { assumeAbsent: (ref) => ref.window.start > horizon && !isLateWindow(ref), fresh: isLateWindow });
    if (await this.#freezeLateWindows(lateRefs, items, closedWatermark)) throw new ReapplyBatchError(`Windows of late records of pipeline ${this.#name} were frozen; reading them again`);
    // A late record already inside its (frozen) window's fence was applied before the window closed: not
    // late twice. Any other late record can no longer enter that window.
    const late = prepared.late.filter(
      (record) => !isFenced(items.get(windowId(this.#name, record.key, { start: record.windowStart, end: record.windowEnd }))?.fence, record.shardId, padSequenceNumber(record.sequenceNumber)),
    );

    const seen = new Map<string, ReadonlySet<string>>();
    const seenOf = (key: string, window: WindowBounds): ReadonlySet<string> | undefined => {
      const id = windowId(this.#name, key, window);
      const ids = items.get(id)?.seenIds;
      if (ids === undefined || ids.length === 0) return undefined;
      let set = seen.get(id);
      if (set === undefined) seen.set(id, (set = new SeenIdSet(ids)));
      return set;
    };
    const stats = { duplicates: 0 };
    const partials = pipeline.combine(prepared, (key, window) => items.get(windowId(this.#name, key, window))?.fence, seenOf, stats);
    await mapWithConcurrency(partials, this.#concurrency, (partial) => this.#writePartial(prepared, partial, items.get(windowId(this.#name, partial.key, partial.window))));
    for (const partial of partials) this.#nextCloseAt = Math.min(this.#nextCloseAt, pipeline.closeTime(partial.window));

    await this.#writeSideOutputs(fresh, prepared, late, progressByShard);
    const updated = await this.#writeProgress(fresh, prepared, progressByShard, now);
    const watermark = effectiveWatermark({ shards: updated, pipeline: snapshot.pipeline }, now, pipeline.spec.time.idleTimeoutMs, this.#expectedShards);
    return { ...base, duplicateEvents: stats.duplicates, rejected: prepared.rejected.length, late: late.length, windowsWritten: partials.length, watermark };
  }

  #lastSequences(progress: ReadonlyMap<string, ShardProgress>): Fence {
    return Object.fromEntries([...progress.values()].map((shard) => [shard.shardId, shard.lastSequence]));
  }

  /** Merges one partial into its stored item with a conditional write, re-merging on conflict. */
  async #writePartial(prepared: PreparedBatch, first: WindowPartial, firstItem: WindowStateItem | undefined): Promise<void> {
    const { pipeline, store, clock } = this.#deps;
    const closeAt = pipeline.closeTime(first.window);
    let partial: WindowPartial | undefined = first;
    let stored = firstItem;
    // A partial without records only fences producer duplicates it dropped; without an item there is
    // nothing they could be duplicates of in the store, so nothing to write.
    for (let attempt = 1; partial !== undefined && (partial.records > 0 || (stored !== undefined && Object.keys(partial.maxSequence).length > 0)); attempt += 1) {
      const ttl = windowTtl(Math.max(closeAt, clock.now()), this.#retentionMs);
      let next: WindowStateItem;
      if (stored !== undefined && stored.status === WINDOW_STATUS.OPEN && partial.records === 0) {
        next = { ...stored, fence: mergeFences(stored.fence, partial.maxSequence), version: stored.version + 1, ttl };
      } else if (stored === undefined) {
        next = { pipeline: this.#name, key: partial.key, window: partial.window, state: partial.state, records: partial.records, fence: partial.maxSequence, version: 1, status: WINDOW_STATUS.OPEN, ttl, ...seenIdsOf(undefined, partial) };
      } else if (stored.status === WINDOW_STATUS.OPEN) {
        next = { ...stored, state: pipeline.mergeState(stored.state, partial.state), records: stored.records + partial.records, fence: mergeFences(stored.fence, partial.maxSequence), version: stored.version + 1, ttl, ...seenIdsOf(stored, partial) };
      } else {
        // The window closed while this batch was in flight (another shard moved the watermark): these
        // records are late, and the next pass of the batch sees them so.
        throw new ReapplyBatchError(`Window ${windowId(this.#name, partial.key, partial.window)} closed while a batch for it was in flight`);
      }
      try {
        await store.writeWindow(next, { expectedVersion: stored?.version, fenceBelow: partial.maxSequence, ...(stored ? { status: stored.status } : {}) }, closeAt);
        return;
      } catch (error) {
        if (!(error instanceof StateConflictError) || attempt >= this.#maxConflictRetries) {
          if (error instanceof StateConflictError) throw new StateContentionError(`Window write for pipeline ${this.#name} lost ${attempt} times in a row`, { cause: error });
          throw error;
        }
        stored = error.existing as WindowStateItem | undefined;
        await this.#conflictBackoff(attempt);
        const fence = stored?.fence;
        const ids = new SeenIdSet(stored?.seenIds ?? []);
        const mine = (key: string, window: WindowBounds): boolean => key === first.key && sameWindow(window, first.window);
        partial = pipeline
          .combine(prepared, (key, window) => (mine(key, window) ? fence : {}), (key, window) => (mine(key, window) ? ids : undefined))
          .find((p) => mine(p.key, p.window));
      }
    }
  }

  /**
   * Freezes the windows of this batch's late records before the late decision, so that it holds: a late
   * record inside a frozen window's fence was applied before the window closed, any other is late and can
   * no longer enter it. An open item (due, not yet claimed by a close pass) is emitted now; a missing one
   * gets an empty `emitted` tombstone, so that a racing copy of this batch that read progress before the
   * window closed cannot create it. Like a close pass, it first raises the stored closed watermark to the
   * one the records were judged by: the watermark from shard progress can go back down (an idle shard
   * resumes, a new shard registers), and a later batch must then still find these windows closed rather
   * than on time but frozen. True when it changed anything (the caller reads again).
   */
  async #freezeLateWindows(lateRefs: readonly WindowRef[], items: ReadonlyMap<string, WindowStateItem>, closedWatermark: EpochMillis): Promise<boolean> {
    const { pipeline, store, clock } = this.#deps;
    const unique = new Map(lateRefs.map((ref) => [windowId(this.#name, ref.key, ref.window), ref]));
    // Absent or open; `emitting` and `emitted` items are frozen already.
    const unsettled = [...unique].filter(([id]) => items.get(id) === undefined || items.get(id)?.status === WINDOW_STATUS.OPEN);
    if (unsettled.length === 0) return false;
    await store.raiseClosedWatermark(this.#name, Math.min(closedWatermark, Number.MAX_SAFE_INTEGER));
    await mapWithConcurrency(unsettled, this.#concurrency, async ([id, ref]) => {
      const item = items.get(id);
      const closeAt = pipeline.closeTime(ref.window);
      if (item !== undefined) {
        await this.#emit({ key: ref.key, window: ref.window, closeAt, status: item.status }, item);
        return;
      }
      const tombstone: WindowStateItem = { pipeline: this.#name, key: ref.key, window: ref.window, state: {}, records: 0, fence: {}, version: 1, status: WINDOW_STATUS.EMITTED, ttl: windowTtl(Math.max(closeAt, clock.now()), this.#retentionMs) };
      await store.writeWindow(tombstone, { expectedVersion: undefined, fenceBelow: {} }, closeAt).catch((error: unknown) => {
        if (!(error instanceof StateConflictError)) throw error; // created meanwhile: the next read sees it
      });
    });
    return true;
  }

  /** Archive of cleaned records, rejected and late records: one object per side output and shard. */
  async #writeSideOutputs(fresh: readonly RawRecord[], prepared: PreparedBatch, late: readonly LateRecord[], progress: ReadonlyMap<string, ShardProgress>): Promise<void> {
    const { spec } = this.#deps.pipeline;
    const arrival = new Map(fresh.map((record) => [`${record.shardId}\u0000${record.sequenceNumber}`, record.approximateArrivalTimestamp]));
    const writes: Promise<void>[] = [];
    for (const [shardId, records] of groupBy(prepared.cleaned, (record) => record.shardId)) {
      const archived = progress.get(shardId)?.archivedSequence ?? NO_SEQUENCE;
      const pending = records.filter((record) => padSequenceNumber(record.sequenceNumber) > archived);
      const firstRecord = pending[0];
      if (firstRecord === undefined) continue;
      const body = pending.map((record) => ({ shardId, sequenceNumber: record.sequenceNumber, eventTime: record.eventTime, value: record.value }));
      writes.push(this.#writeBatchObject('clean', spec.source.stream, firstRecord.eventTime, shardId, pending.map((r) => r.sequenceNumber), body));
    }
    for (const [shardId, records] of groupBy(prepared.rejected, (record) => record.shardId)) {
      const time = arrival.get(`${shardId}\u0000${records[0]?.sequenceNumber}`) ?? 0;
      writes.push(this.#writeBatchObject('rejected', spec.source.stream, time, shardId, records.map((r) => r.sequenceNumber), records));
    }
    // A redelivery of the same records finds the same late set: every other record of this batch is in
    // a window's fence (applied, or dropped as a producer duplicate) before this object is written, and
    // the windows of late records are frozen. So the object's name (first late record) is stable.
    for (const [shardId, records] of groupBy(late, (record) => record.shardId)) {
      writes.push(this.#writeBatchObject('late', spec.sink.table, records[0]?.eventTime ?? 0, shardId, records.map((r) => r.sequenceNumber), records));
    }
    const settled = await Promise.allSettled(writes);
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * Writes `<shard>-<firstSeq>-<lastSeq>.jsonl`, then deletes any object an earlier attempt wrote for the
   * same first record with other boundaries (a bisected or shortened redelivery): no record twice.
   */
  async #writeBatchObject(output: SideOutput, name: string, time: EpochMillis, shardId: string, sequences: readonly string[], body: readonly unknown[]): Promise<void> {
    const padded = sequences.map(padSequenceNumber).sort();
    const firstSeq = padded[0] ?? NO_SEQUENCE;
    const lastSeq = padded[padded.length - 1] ?? NO_SEQUENCE;
    const key = batchObjectKey(output, name, time, shardId, firstSeq, lastSeq);
    await this.#deps.objects.putObject(key, jsonLines(body), 'application/x-ndjson');
    const earlier = await this.#deps.objects.listKeys(batchObjectPrefix(output, name, time, shardId, firstSeq));
    for (const other of earlier) if (other !== key) await this.#deps.objects.deleteObject(other);
  }

  /** Raises each shard's progress item (fenced by version and last sequence), re-merging on conflict. */
  async #writeProgress(fresh: readonly RawRecord[], prepared: PreparedBatch, progress: ReadonlyMap<string, ShardProgress>, now: EpochMillis): Promise<ShardProgress[]> {
    const { spec } = this.#deps.pipeline;
    const lastByShard = new Map<string, string>();
    for (const record of fresh) {
      const padded = padSequenceNumber(record.sequenceNumber);
      if (padded > (lastByShard.get(record.shardId) ?? NO_SEQUENCE)) lastByShard.set(record.shardId, padded);
    }
    const archivedByShard = new Map<string, string>();
    for (const record of prepared.cleaned) {
      const padded = padSequenceNumber(record.sequenceNumber);
      if (padded > (archivedByShard.get(record.shardId) ?? NO_SEQUENCE)) archivedByShard.set(record.shardId, padded);
    }
    const updated = new Map(progress);
    await mapWithConcurrency([...lastByShard], this.#concurrency, async ([shardId, lastSequence]) => {
      const maxEventTime = prepared.shards[shardId]?.maxEventTime ?? null;
      let stored = progress.get(shardId);
      for (let attempt = 1; ; attempt += 1) {
        const merged = maxOrNull(stored?.maxEventTime ?? null, maxEventTime);
        const next: ShardProgress = {
          pipeline: this.#name,
          shardId,
          maxEventTime: merged,
          watermark: merged === null ? null : merged - spec.time.maxOutOfOrdernessMs,
          lastSequence: maxString(stored?.lastSequence ?? NO_SEQUENCE, lastSequence),
          archivedSequence: maxString(stored?.archivedSequence ?? NO_SEQUENCE, archivedByShard.get(shardId) ?? NO_SEQUENCE),
          lastActivity: Math.max(stored?.lastActivity ?? now, now),
          closed: stored?.closed ?? false,
          version: (stored?.version ?? 0) + 1,
        };
        try {
          updated.set(shardId, await this.#deps.store.writeShardProgress(next, stored?.version));
          return;
        } catch (error) {
          if (!(error instanceof StateConflictError) || attempt >= this.#maxConflictRetries) throw error;
          stored = error.existing as ShardProgress | undefined;
        }
      }
    });
    return [...updated.values()];
  }

  /** Closes every window due at `watermark`: open → emitting (emission id) → object written → emitted. */
  async #closeDue(watermark: EpochMillis): Promise<number> {
    const { store } = this.#deps;
    if (watermark === -Infinity) return 0;
    const due = await store.listDueWindows(this.#name, Math.min(watermark, Number.MAX_SAFE_INTEGER), this.#maxEmitPerPass);
    let emitted = 0;
    if (due.length > 0) {
      // Raised first: from now on every batch treats records of these windows as late.
      await store.raiseClosedWatermark(this.#name, Math.min(watermark, Number.MAX_SAFE_INTEGER));
      const items = await store.readWindows(this.#name, due);
      const results = await mapWithConcurrency(due, this.#concurrency, (window) => this.#emit(window, items.get(windowId(this.#name, window.key, window.window))));
      emitted = results.filter(Boolean).length;
    }
    this.#nextCloseAt = due.length === this.#maxEmitPerPass ? -Infinity : ((await store.nextCloseAt(this.#name)) ?? Infinity);
    return emitted;
  }

  /** Emits one window; true when this call moved it to `emitted`. Safe to repeat at any step. */
  async #emit(due: DueWindow, first: WindowStateItem | undefined): Promise<boolean> {
    const { pipeline, store, objects, encoder } = this.#deps;
    const closeAt = due.closeAt;
    let item = first ?? (await store.readWindows(this.#name, [due])).get(windowId(this.#name, due.key, due.window));
    let written = false;
    for (let attempt = 1; item !== undefined && item.status !== WINDOW_STATUS.EMITTED; attempt += 1) {
      let next: WindowStateItem;
      if (item.status === WINDOW_STATUS.OPEN) {
        next = { ...item, status: WINDOW_STATUS.EMITTING, emissionId: emissionId(this.#name, item.key, item.window), version: item.version + 1 };
      } else {
        const id = item.emissionId ?? emissionId(this.#name, item.key, item.window);
        if (!written) {
          const row: ResultRow = pipeline.resultRow(item.key, item.window, item.state, item.records);
          await objects.putObject(resultObjectKey(pipeline.spec.sink.table, item.window.start, id, encoder.extension), encoder.encode(pipeline.spec.columns, [row]), encoder.contentType);
          written = true;
        }
        next = { ...item, status: WINDOW_STATUS.EMITTED, version: item.version + 1 };
      }
      try {
        item = await store.writeWindow(next, { expectedVersion: item.version, fenceBelow: {}, status: item.status }, closeAt);
      } catch (error) {
        if (!(error instanceof StateConflictError) || attempt >= this.#maxConflictRetries) throw error;
        const claimedByOther = item.status === WINDOW_STATUS.OPEN && (error.existing as WindowStateItem | undefined)?.status === WINDOW_STATUS.EMITTING;
        // Another instance just claimed this window: let it finish. Should it crash, the window stays
        // `emitting` and any later close pass (invocation or tick) finishes it.
        if (claimedByOther) return false;
        item = error.existing as WindowStateItem | undefined;
        continue;
      }
      if (item.status === WINDOW_STATUS.EMITTED) return true;
    }
    return false;
  }
}

/**
 * Most dedupe id hashes (8 bytes each) kept per window item. DynamoDB items hold at most 400 KB and every
 * write is billed by item size: a hot window would otherwise
 * outgrow its item and block its shard for good (DESIGN.md §4). Producer retries arrive close together,
 * so the most recent ids are kept; beyond this many distinct events per (key, window), duplicates sent
 * further apart than that are no longer caught (redeliveries still are, by the sequence-number fence).
 */
export const MAX_SEEN_IDS = 10_000;

/** The window's seen dedupe ids after applying `partial` (absent when the pipeline does not dedupe). */
function seenIdsOf(stored: WindowStateItem | undefined, partial: WindowPartial): { seenIds?: readonly string[] } {
  const added = (partial.dedupeIds ?? []).map(dedupeHash);
  const existing = stored?.seenIds ?? [];
  if (added.length === 0) return existing.length > 0 ? { seenIds: existing } : {};
  const ids = [...new Set([...existing, ...added])];
  return { seenIds: ids.length > MAX_SEEN_IDS ? ids.slice(ids.length - MAX_SEEN_IDS) : ids };
}

function sameWindow(a: WindowBounds, b: WindowBounds): boolean {
  return a.start === b.start && a.end === b.end;
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function maxString(a: string, b: string): string {
  return a >= b ? a : b;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

