/**
 * The console's plots (pure): what the history keeps of each sample, and the series drawn from it —
 * per-shard backlog, iterator age, watermark and its lag, windows, and records over time.
 */
import type { PipelineTopology } from '../../functions/core/engine/pipelineTopology';
import type { ShardCounts } from '../../functions/core/state/types';
import { shardLabel } from '../start/sessionProgress';
import type { PipelineSample } from './consoleSources';
import { instant, lagBehind, watermarkAt, windowsView } from './windowsView';

/** What the history keeps of one pipeline per sample. */
export interface HistoryPoint {
  readonly shards: readonly {
    readonly id: string;
    readonly pending: number;
    readonly iteratorAgeMs: number;
    readonly watermark: number | null;
  }[];
  /** The pipeline watermark at the sample (the minimum over active shards), null before any. */
  readonly watermark: number | null;
  readonly windows: { readonly open: number; readonly closing: number; readonly emitted: number };
  readonly counts: ShardCounts;
}

/** One plot: x in epoch seconds, one series per line (null: no value at that sample). */
export interface PlotData {
  readonly id: string;
  readonly title: string;
  /** How the page labels the y axis: counts, seconds, or instants (epoch seconds). */
  readonly unit: 'count' | 'seconds' | 'time';
  readonly x: readonly number[];
  readonly series: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
}

/** What the history keeps of each pipeline of a sample. */
export function historyPoints(
  pipelines: readonly { readonly topology: PipelineTopology }[],
  samples: readonly PipelineSample[],
  at: number,
): HistoryPoint[] {
  // A sample holds one entry per pipeline, in the same order.
  return pipelines.flatMap(({ topology }, i) => {
    const sample = samples[i];
    if (sample === undefined) return [];
    const watermark = watermarkAt(sample.status, topology, at);
    const windows = windowsView(sample.status, topology, watermark, sample.results.windowsEmitted);
    return {
      shards: sample.status.shards.map((s) => ({
        id: s.shardId,
        pending: s.pendingRecords,
        iteratorAgeMs: s.iteratorAgeMs,
        watermark: s.watermark,
      })),
      watermark,
      windows: { open: windows.open, closing: windows.closing, emitted: sample.results.windowsEmitted },
      counts: sample.status.taken,
    };
  });
}

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.round(ms) / 1000);

/** The plots of one pipeline from its history (`at` in epoch ms). */
export function plots(history: readonly { readonly at: number; readonly point: HistoryPoint }[]): PlotData[] {
  const x = history.map((h) => Math.round(h.at / 100) / 10);
  const shardIds = [...new Set(history.flatMap((h) => h.point.shards.map((s) => s.id)))].sort();
  const perShard = (value: (shard: HistoryPoint['shards'][number], at: number) => number | null) =>
    shardIds.map((id) => ({
      label: shardLabel(id),
      values: history.map((h) => {
        const shard = h.point.shards.find((s) => s.id === id);
        return shard === undefined ? null : value(shard, h.at);
      }),
    }));
  const series = (label: string, value: (p: HistoryPoint, at: number) => number | null) => ({
    label,
    values: history.map((h) => value(h.point, h.at)),
  });
  return [
    {
      id: 'backlog',
      title: 'Backlog: records pending per shard',
      unit: 'count',
      x,
      series: perShard((s) => s.pending),
    },
    {
      id: 'iteratorAge',
      title: 'Iterator age per shard (oldest unprocessed record)',
      unit: 'seconds',
      x,
      series: perShard((s) => seconds(s.iteratorAgeMs)),
    },
    {
      id: 'watermark',
      title: 'Watermark (event time) per shard and pipeline',
      unit: 'time',
      x,
      series: [
        ...perShard((s) => seconds(instant(s.watermark))),
        series('pipeline', (p) => seconds(instant(p.watermark))),
      ],
    },
    {
      id: 'watermarkLag',
      title: 'Watermark lag behind wall clock',
      unit: 'seconds',
      x,
      series: [
        ...perShard((s, at) => seconds(lagBehind(at, s.watermark))),
        series('pipeline', (p, at) => seconds(lagBehind(at, p.watermark))),
      ],
    },
    {
      id: 'windows',
      title: 'Windows: open, closing, emitted',
      unit: 'count',
      x,
      series: [
        series('open', (p) => p.windows.open),
        series('closing', (p) => p.windows.closing),
        series('emitted', (p) => p.windows.emitted),
      ],
    },
    {
      id: 'records',
      title: 'Records in, rejected, late, duplicates (total)',
      unit: 'count',
      x,
      series: [
        series('in', (p) => p.counts.records),
        series('rejected', (p) => p.counts.rejected),
        series('late', (p) => p.counts.late),
        series('duplicates', (p) => p.counts.duplicates),
      ],
    },
  ];
}
