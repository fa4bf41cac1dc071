/**
 * A hand-written `StatefulPipeline` test double: page views keyed by user, tumbling one-minute windows,
 * count / sum / min / max / avg of `ms`. It implements the two-phase batch contract the engine provides
 * (prepare → combine) so the state layer can be tested on its own; a `page: 'poison'` value makes the
 * "user map function" throw, which must dead-letter the record.
 */
import {
  REJECT_REASONS,
  type Fence,
  type Json,
  type LateRecord,
  type PipelineSpec,
  type RawRecord,
  type Rejection,
  type StreamRecord,
  type WindowBounds,
  type WindowPartial,
} from '../../functions/core/types';

import type { PreparedRecords, ShardBatchSummary } from '../../functions/core/engine/types';
import type { StatefulPipeline } from '../../functions/core/state/types';
import { padSequence } from '../../functions/core/sequence';
import { stateFingerprint, stateShapeOf } from '../../functions/core/state/stateFingerprint';

/** One input event. */
export interface PageView {
  readonly id: string;
  readonly user: string;
  readonly ms: number;
  readonly ts: number;
  readonly page?: string;
}

interface ViewState {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export const WINDOW_MS = 60_000;

export interface PageViewsOptions {
  readonly name?: string;
  readonly allowedLatenessMs?: number;
  readonly maxOutOfOrdernessMs?: number;
  readonly idleTimeoutMs?: number;
  /** Provisioned shard count (the watermark waits for that many shards). @default undefined (on-demand) */
  readonly shards?: number;
}

function isPageView(value: unknown): value is PageView {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.user === 'string' &&
    v.user.length > 0 &&
    typeof v.ms === 'number' &&
    Number.isFinite(v.ms) &&
    typeof v.ts === 'number' &&
    Number.isSafeInteger(v.ts) &&
    v.ts >= 0
  );
}

function userMap(view: PageView): PageView {
  if (view.page === 'poison') throw new Error('user map function failed on a poison record');
  return view;
}

function toState(json: Readonly<Record<string, Json>>): ViewState {
  const s = json.views as unknown as ViewState;
  return { count: s.count, sum: s.sum, min: s.min, max: s.max };
}

export function pageViewsPipeline(options: PageViewsOptions = {}): StatefulPipeline {
  const spec: PipelineSpec = {
    name: options.name ?? 'page-views',
    source: { stream: 'page-views', ...(options.shards !== undefined ? { shards: options.shards } : {}) },
    window: { kind: 'tumbling', sizeMs: WINDOW_MS },
    time: {
      allowedLatenessMs: options.allowedLatenessMs ?? 0,
      maxOutOfOrdernessMs: options.maxOutOfOrdernessMs ?? 5_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 3_600_000,
      maxEventTimeAheadMs: 300_000,
    },
    sink: { table: 'page_views_by_user' },
    columns: [
      { name: 'user', type: 'string' },
      { name: 'window_start', type: 'timestamp' },
      { name: 'window_end', type: 'timestamp' },
      { name: 'views', type: 'bigint' },
      { name: 'total_ms', type: 'double' },
      { name: 'min_ms', type: 'double' },
      { name: 'max_ms', type: 'double' },
      { name: 'avg_ms', type: 'double' },
    ],
    errorBounds: {},
  };
  const windowOf = (ts: number): WindowBounds => {
    const start = Math.floor(ts / WINDOW_MS) * WINDOW_MS;
    return { start, end: start + WINDOW_MS };
  };
  const closeTime = (window: WindowBounds): number => window.end + spec.time.allowedLatenessMs;

  const stateShape = stateShapeOf({
    keyColumn: 'user',
    spec,
    dedupeBy: undefined,
    aggregates: [{ column: 'views', aggregate: { kind: 'pageViews' } }],
  });
  return {
    spec,
    stateShape,
    stateFingerprint: stateFingerprint(stateShape),
    closeTime,
    prepare(records: readonly RawRecord[], { closedWatermark }): PreparedRecords {
      const rejected: Rejection[] = [];
      const late: LateRecord[] = [];
      const cleaned: StreamRecord<PageView>[] = [];
      const groups = new Map<string, { key: string; window: WindowBounds }>();
      const shards: Record<string, ShardBatchSummary> = {};
      for (const raw of records) {
        const padded = padSequence(raw.sequenceNumber);
        const summary = shards[raw.shardId] ?? { maxEventTime: null, lastSequence: padded, records: 0 };
        shards[raw.shardId] = {
          ...summary,
          lastSequence: padded > summary.lastSequence ? padded : summary.lastSequence,
          records: summary.records + 1,
        };
        const reject = (reason: Rejection['reason'], detail: string): void => {
          rejected.push({
            reason,
            detail,
            shardId: raw.shardId,
            sequenceNumber: raw.sequenceNumber,
            partitionKey: raw.partitionKey,
            data: raw.data,
          });
        };
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.from(raw.data, 'base64').toString('utf8'));
        } catch (error) {
          reject(REJECT_REASONS.INVALID_JSON, String(error));
          continue;
        }
        if (!isPageView(parsed)) {
          reject(REJECT_REASONS.SCHEMA_VIOLATION, 'not a page view');
          continue;
        }
        let view: PageView;
        try {
          view = userMap(parsed);
        } catch (error) {
          reject(REJECT_REASONS.OPERATOR_THREW, `map: ${(error as Error).message}`);
          continue;
        }
        const window = windowOf(view.ts);
        const record: StreamRecord<PageView> = {
          value: view,
          eventTime: view.ts,
          shardId: raw.shardId,
          sequenceNumber: raw.sequenceNumber,
        };
        cleaned.push(record);
        const current = shards[raw.shardId];
        if (current !== undefined)
          shards[raw.shardId] = {
            ...current,
            maxEventTime: Math.max(current.maxEventTime ?? -Infinity, view.ts),
          };
        if (closeTime(window) <= closedWatermark) {
          late.push({
            key: view.user,
            windowStart: window.start,
            windowEnd: window.end,
            eventTime: view.ts,
            watermark: closedWatermark,
            shardId: raw.shardId,
            sequenceNumber: raw.sequenceNumber,
            value: view,
          });
          continue;
        }
        groups.set(`${view.user}\u0000${window.start}`, { key: view.user, window });
      }
      return { groups: [...groups.values()], rejected, late, cleaned, published: [], shards, operators: [] };
    },
    combine(
      prepared: PreparedRecords,
      fenceOf: (key: string, window: WindowBounds) => Fence | undefined,
    ): WindowPartial[] {
      const lateIds = new Set(prepared.late.map((l) => `${l.shardId}\u0000${l.sequenceNumber}`));
      const partials = new Map<
        string,
        {
          key: string;
          window: WindowBounds;
          state: ViewState;
          records: number;
          maxSequence: Record<string, string>;
        }
      >();
      for (const record of prepared.cleaned as readonly StreamRecord<PageView>[]) {
        if (lateIds.has(`${record.shardId}\u0000${record.sequenceNumber}`)) continue;
        const window = windowOf(record.eventTime);
        const padded = padSequence(record.sequenceNumber);
        const mark = fenceOf(record.value.user, window)?.[record.shardId];
        if (mark !== undefined && padded <= mark) continue;
        const id = `${record.value.user}\u0000${window.start}`;
        const partial = partials.get(id) ?? {
          key: record.value.user,
          window,
          state: { count: 0, sum: 0, min: Infinity, max: -Infinity },
          records: 0,
          maxSequence: {},
        };
        partial.state.count += 1;
        partial.state.sum += record.value.ms;
        partial.state.min = Math.min(partial.state.min, record.value.ms);
        partial.state.max = Math.max(partial.state.max, record.value.ms);
        partial.records += 1;
        const previous = partial.maxSequence[record.shardId];
        if (previous === undefined || padded > previous) partial.maxSequence[record.shardId] = padded;
        partials.set(id, partial);
      }
      return [...partials.values()].map((p) => ({
        key: p.key,
        window: p.window,
        records: p.records,
        maxSequence: p.maxSequence,
        state: { views: { ...p.state } },
      }));
    },
    mergeState(a, b) {
      const x = toState(a);
      const y = toState(b);
      return {
        views: {
          count: x.count + y.count,
          sum: x.sum + y.sum,
          min: Math.min(x.min, y.min),
          max: Math.max(x.max, y.max),
        },
      };
    },
    resultRow(key, window, state, records) {
      const s = toState(state);
      return {
        user: key,
        window_start: window.start,
        window_end: window.end,
        views: BigInt(records),
        total_ms: s.sum,
        min_ms: s.min,
        max_ms: s.max,
        avg_ms: s.sum / s.count,
      };
    },
  };
}

/** Encodes one page view as a Kinesis-style raw record. */
export function rawRecord(
  shardId: string,
  sequenceNumber: bigint | number,
  value: unknown,
  arrival = 0,
): RawRecord {
  const data =
    typeof value === 'string'
      ? Buffer.from(value).toString('base64')
      : Buffer.from(JSON.stringify(value)).toString('base64');
  return {
    shardId,
    sequenceNumber: String(sequenceNumber),
    partitionKey: 'pk',
    data,
    approximateArrivalTimestamp: arrival,
  };
}
