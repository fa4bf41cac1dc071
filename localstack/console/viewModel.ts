/**
 * What the page shows, computed from the sampler's state (pure): counters, the graph, per-shard rows,
 * window counts and the next windows due, plot series from the history, result rows and rejections.
 * The page only draws it.
 */
import type { PipelineTopology } from '../../functions/core/engine/pipelineTopology';
import type { PipelineSample } from './consoleSources';
import type { TableResults } from './latestResults';
import { pipelineGraph, type PipelineGraph } from './pipelineGraph';
import { plots, type HistoryPoint, type PlotData } from './plotSeries';
import type { RejectedView } from './rejectedRecords';
import type { SamplerState } from './sampler';
import { END_OF_INPUT, lagBehind, watermarkAt, windowsView, type WindowsView } from './windowsView';

export interface Counters {
  /** What the shards' commits took in, exactly once. */
  readonly records: number;
  readonly rejected: number;
  readonly late: number;
  readonly duplicates: number;
  readonly pending: number;
  /** Some shard's backlog reached the counting limit: there may be more pending. */
  readonly pendingAtLeast: boolean;
  readonly windowsOpen: number;
  readonly windowsClosing: number;
  readonly windowsEmitted: number;
  readonly watermark: number | null;
  /** Wall clock at the sample minus the pipeline watermark. */
  readonly watermarkLagMs: number | null;
  /** The close passes' mark: windows closing at or below it are emitted or being emitted. */
  readonly closedUpTo: number | null;
  /** Every window has been closed at the end of bounded input (the close mark is +∞). */
  readonly endOfInput: boolean;
}

export interface ShardRow {
  readonly id: string;
  readonly pending: number;
  /** The backlog reached the counting limit: there may be more. */
  readonly pendingAtLeast: boolean;
  readonly iteratorAgeMs: number;
  readonly watermark: number | null;
  readonly watermarkLagMs: number | null;
  readonly lastActivity: number | null;
  readonly records: number;
  readonly closed: boolean;
}

export interface PipelineView {
  readonly name: string;
  readonly stream: string;
  /** The result table; null for a publish-only pipeline, which ends at the stream `publishes` names. */
  readonly table: string | null;
  readonly publishes: string | null;
  /** Null before the first sample. */
  readonly counters: Counters | null;
  readonly graph: PipelineGraph;
  readonly shards: readonly ShardRow[];
  readonly windows: WindowsView | null;
  readonly plots: readonly PlotData[];
  readonly results: TableResults | null;
  readonly rejected: RejectedView | null;
}

export interface ConsoleView {
  /** Grows with every finished sample: the page redraws only when it changes. */
  readonly seq: number;
  readonly endpoint: string;
  readonly intervalMs: number;
  readonly sampledAt: number | null;
  readonly sampleMs: number | null;
  /** The last sample's failure, one line with the next step. */
  readonly error: string | null;
  readonly pipelines: readonly PipelineView[];
}

/** A pipeline the console shows: what it is and where it reads. */
export interface ViewedPipeline {
  readonly topology: PipelineTopology;
  readonly stream: string;
}

/** What the view is computed for. */
export interface ViewContext {
  readonly endpoint: string;
  readonly intervalMs: number;
  /** Pending records are counted per shard up to this many. */
  readonly pendingLimit: number;
  readonly pipelines: readonly ViewedPipeline[];
}

function pipelineView(
  viewed: ViewedPipeline,
  pendingLimit: number,
  sample: { readonly at: number; readonly value: PipelineSample } | undefined,
  history: readonly { readonly at: number; readonly point: HistoryPoint }[],
): PipelineView {
  const { topology, stream } = viewed;
  const base = {
    name: topology.name,
    stream,
    table: topology.sink?.table ?? null,
    publishes: topology.publish?.stream ?? null,
    plots: plots(history),
  };
  if (sample === undefined)
    return {
      ...base,
      counters: null,
      graph: pipelineGraph(topology, stream, undefined),
      shards: [],
      windows: null,
      results: null,
      rejected: null,
    };
  const { at, value } = sample;
  const { status } = value;
  const watermark = watermarkAt(status, topology, at);
  const windows = windowsView(status, topology, watermark, value.results.windowsEmitted);
  const shards = status.shards.map((s): ShardRow => ({
    id: s.shardId,
    pending: s.pendingRecords,
    pendingAtLeast: s.pendingRecords >= pendingLimit,
    iteratorAgeMs: s.iteratorAgeMs,
    watermark: s.watermark,
    watermarkLagMs: lagBehind(at, s.watermark),
    lastActivity: s.lastActivity,
    records: s.taken.records,
    closed: s.closed,
  }));
  return {
    ...base,
    counters: {
      ...status.taken,
      pending: shards.reduce((n, s) => n + s.pending, 0),
      pendingAtLeast: shards.some((s) => s.pendingAtLeast),
      windowsOpen: windows.open,
      windowsClosing: windows.closing,
      windowsEmitted: windows.emitted,
      watermark,
      watermarkLagMs: lagBehind(at, watermark),
      closedUpTo: status.closedWatermark,
      endOfInput: status.closedWatermark !== null && status.closedWatermark >= END_OF_INPUT,
    },
    graph: pipelineGraph(topology, stream, {
      shards: status.shards.map((s) => ({
        id: s.shardId,
        pending: s.pendingRecords,
        pendingAtLeast: s.pendingRecords >= pendingLimit,
        iteratorAgeMs: s.iteratorAgeMs,
        taken: s.taken,
      })),
      taken: status.taken,
      rejectedByStage: value.rejected.byStage,
      windows,
      windowsEmitted: value.results.windowsEmitted,
      rejectedRecords: value.rejected.total,
      lateRecords: value.lateRecords,
      lastWindowRows: value.results.latest?.totalRows ?? null,
      ...(value.resultsDeadLettered === undefined ? {} : { resultsDeadLettered: value.resultsDeadLettered }),
    }),
    shards,
    windows,
    results: value.results,
    rejected: value.rejected,
  };
}

/** The whole page's data from the sampler's state. */
export function consoleView(
  context: ViewContext,
  state: SamplerState<readonly PipelineSample[], readonly HistoryPoint[]>,
): ConsoleView {
  const { latest } = state;
  return {
    seq: state.seq,
    endpoint: context.endpoint,
    intervalMs: context.intervalMs,
    sampledAt: latest?.at ?? null,
    sampleMs: latest?.tookMs ?? null,
    error: state.error ?? null,
    pipelines: context.pipelines.map((viewed, i) => {
      const value = latest?.value[i];
      const history = state.history.flatMap((h) => {
        const point = h.point[i];
        return point === undefined ? [] : [{ at: h.at, point }];
      });
      return pipelineView(
        viewed,
        context.pendingLimit,
        latest === undefined || value === undefined ? undefined : { at: latest.at, value },
        history,
      );
    }),
  };
}
