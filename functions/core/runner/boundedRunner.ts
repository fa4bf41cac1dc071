import type { CompiledPipeline } from '../engine/CompiledPipeline';
import type { PositionedValue, PreparedBatch } from '../engine/types';
import { mergeSessions } from '../windows/sessionWindow';
import { WatermarkTracker } from '../watermark/WatermarkTracker';
import type {
  EpochMillis,
  Json,
  LateRecord,
  RawRecord,
  Rejection,
  ResultRow,
  WindowBounds,
  WindowPartial,
} from '../types';
import { InvalidOptionError } from '../errors';

/** Options of {@link runBounded}. */
export interface BoundedRunOptions {
  /**
   * Records per batch. Lateness is decided per batch against the watermark before it, as the distributed
   * runtime does; the default mirrors the Kinesis event source mapping default.
   * @default 100
   */
  readonly batchSize?: number;
  /** Shard id given to plain JSON values. @default 'bounded-0' */
  readonly shardId?: string;
  /**
   * Shards known up front: each holds the watermark back from the start, even before its first record
   * (as the distributed runtime's shard list does). Otherwise shards count from their first record.
   */
  readonly shards?: readonly string[];
}

/** What a bounded run produces. */
export interface BoundedRunResult {
  /** One row per closed window, ordered by window start, window end, then key. */
  readonly rows: ResultRow[];
  readonly rejected: Rejection[];
  readonly late: LateRecord[];
  /** Producer duplicates `dedupeBy` dropped (each extra copy once). */
  readonly duplicates: number;
}

interface StoredWindow {
  readonly key: string;
  window: WindowBounds;
  state: Record<string, Json>;
  records: number;
  readonly seen: Set<string>;
}

/**
 * Runs a pipeline over bounded input in memory: the reference semantics the distributed runtime must
 * equal. Input is an iterable of JSON values (given synthetic positions on one shard, in order) or of
 * {@link RawRecord}s (decoded like Kinesis records; several shards allowed). Batches go through the same
 * `prepare` → `combine` → `mergeState` path as the Lambda handler; after each batch the watermark advances
 * and windows with `closeTime ≤ watermark` are emitted. At the end of input the watermark jumps to +∞ and
 * every window closes. Processing time does not exist here, so no shard ever counts as idle.
 *
 * @example
 * const { rows } = runBounded(pageActivity, events);
 */
export function runBounded<T>(
  pipeline: CompiledPipeline<T>,
  input: Iterable<unknown> | Iterable<RawRecord>,
  options: BoundedRunOptions = {},
): BoundedRunResult {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidOptionError(`batchSize must be a positive integer (given ${batchSize})`);
  const shardId = options.shardId ?? 'bounded-0';
  const tracker = new WatermarkTracker({
    maxOutOfOrdernessMs: pipeline.spec.time.maxOutOfOrdernessMs,
    idleTimeoutMs: Infinity,
  });
  for (const id of options.shards ?? []) tracker.register(id, 0);
  const isSession = pipeline.spec.window.kind === 'session';
  const store = new Map<string, StoredWindow>();
  const sessionSeen = new Map<string, Set<string>>();
  const rows: ResultRow[] = [];
  const rejected: Rejection[] = [];
  const late: LateRecord[] = [];
  let watermark: EpochMillis = -Infinity;
  const stats = { duplicates: 0 };

  const apply = (prepared: PreparedBatch): void => {
    rejected.push(...prepared.rejected);
    late.push(...prepared.late);
    const partials = pipeline.combine(
      prepared,
      () => undefined,
      // A session's dedupe ids are per key: the same event always lands in the same (merged) session.
      (key, window) => (isSession ? sessionSeen.get(key) : store.get(groupId(key, window))?.seen),
      stats,
    );
    // A partial without records only fences duplicates it dropped; this runner keeps no fences.
    for (const p of partials) if (p.records > 0) (isSession ? mergeSession : mergeFixed)(p);
    for (const [id, s] of Object.entries(prepared.shards)) tracker.observe(id, s.maxEventTime, 0);
    watermark = tracker.watermark(0);
    emit(watermark);
  };

  const mergeFixed = (p: WindowPartial): void => {
    const id = groupId(p.key, p.window);
    const cur = store.get(id);
    if (cur === undefined) {
      store.set(id, {
        key: p.key,
        window: p.window,
        state: { ...p.state },
        records: p.records,
        seen: new Set(p.dedupeIds ?? []),
      });
      return;
    }
    cur.state = pipeline.mergeState(cur.state, p.state);
    cur.records += p.records;
    for (const d of p.dedupeIds ?? []) cur.seen.add(d);
  };

  const mergeSession = (p: WindowPartial): void => {
    const sameKey = [...store.values()].filter((s) => s.key === p.key);
    const merged = mergeSessions(
      { window: p.window, state: p.state, records: p.records, fence: p.maxSequence },
      sameKey.map((s) => ({ window: s.window, state: s.state, records: s.records, fence: {} })),
      (a, b) => pipeline.mergeState(a, b),
    );
    for (const w of merged.absorbed) store.delete(groupId(p.key, w));
    store.set(groupId(p.key, merged.window), {
      key: p.key,
      window: merged.window,
      state: merged.state,
      records: merged.records,
      seen: new Set(),
    });
    if (p.dedupeIds !== undefined) {
      const seen = sessionSeen.get(p.key) ?? new Set<string>();
      for (const d of p.dedupeIds) seen.add(d);
      sessionSeen.set(p.key, seen);
    }
  };

  const emit = (wm: EpochMillis): void => {
    const closed = [...store.entries()].filter(([, s]) => pipeline.isClosed(s.window, wm));
    closed.sort(
      ([, a], [, b]) =>
        a.window.start - b.window.start ||
        a.window.end - b.window.end ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    for (const [id, s] of closed) {
      store.delete(id);
      rows.push(pipeline.resultRow(s.key, s.window, s.state, s.records));
    }
  };

  let rawBatch: RawRecord[] = [];
  let valueBatch: PositionedValue[] = [];
  let seq = 0;
  for (const item of input as Iterable<unknown>) {
    if (isRawRecord(item)) {
      rawBatch.push(item);
      if (rawBatch.length >= batchSize) {
        apply(pipeline.prepare(rawBatch, { closedWatermark: watermark }));
        rawBatch = [];
      }
    } else {
      seq++;
      valueBatch.push({ shardId, sequenceNumber: String(seq), value: item });
      if (valueBatch.length >= batchSize) {
        apply(pipeline.prepareValues(valueBatch, { closedWatermark: watermark }));
        valueBatch = [];
      }
    }
  }
  if (rawBatch.length > 0) apply(pipeline.prepare(rawBatch, { closedWatermark: watermark }));
  if (valueBatch.length > 0) apply(pipeline.prepareValues(valueBatch, { closedWatermark: watermark }));
  emit(Infinity);
  return { rows, rejected, late, duplicates: stats.duplicates };
}

function groupId(key: string, window: WindowBounds): string {
  return `${key}\u0000${window.start}\u0000${window.end}`;
}

function isRawRecord(item: unknown): item is RawRecord {
  if (item === null || typeof item !== 'object') return false;
  const r = item as Record<string, unknown>;
  return (
    typeof r['shardId'] === 'string' &&
    typeof r['sequenceNumber'] === 'string' &&
    typeof r['data'] === 'string' &&
    typeof r['partitionKey'] === 'string' &&
    typeof r['approximateArrivalTimestamp'] === 'number'
  );
}
