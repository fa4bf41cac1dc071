/**
 * The pipeline as a graph (pure): source stream and its shards → clean → the fused operators → keyBy →
 * window → aggregate → results table, with the side outputs `rejected/` and `late/` and the stream it publishes
 * to (its records' with `.toStream()`, its result rows' with `.sink({ toStream })`), each node carrying the
 * figures that exist for it. Counts the runtime does not keep (records in and out of a map, filter or
 * flatMap) are labelled as such instead of guessed.
 */
import type { PipelineTopology } from '../../functions/core/engine/pipelineTopology';
import type { ShardCounts } from '../../functions/core/state/types';
import type { WindowSpec } from '../../functions/core/types';
import { shardLabel } from '../start/sessionProgress';
import { operatorStage, STAGE } from './rejectedRecords';

/** One figure of a node; a null value means "not known yet". */
export interface GraphStat {
  readonly label: string;
  readonly value: number | string | null;
  /** `bad` for records that left the main path (rejected, late), `warn` for backlog and lag. */
  readonly tone?: 'bad' | 'warn';
}

export type GraphNodeKind =
  'stream' | 'shard' | 'clean' | 'operator' | 'keyBy' | 'window' | 'aggregate' | 'table' | 'sideOutput';

/** A node, placed on a grid (column left to right, row top to bottom). */
export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly title: string;
  readonly subtitle: string;
  readonly col: number;
  readonly row: number;
  readonly stats: readonly GraphStat[];
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** A side output (records leaving the main path). */
  readonly side: boolean;
  /** Records that took this edge, when counted. */
  readonly records: number | null;
}

export interface PipelineGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly cols: number;
  readonly rows: number;
}

/** What the latest sample says about the pipeline (absent before the first sample). */
export interface GraphFigures {
  readonly shards: readonly {
    readonly id: string;
    readonly pending: number;
    /** The backlog was counted up to a limit and reached it: there may be more. */
    readonly pendingAtLeast: boolean;
    readonly iteratorAgeMs: number;
    readonly taken: ShardCounts;
  }[];
  /** Summed over shards: what the commits took in. */
  readonly taken: ShardCounts;
  /** Rejected records by stage id, from the `rejected/` objects. */
  readonly rejectedByStage: Readonly<Record<string, number>>;
  readonly windows: { readonly open: number; readonly closing: number };
  readonly windowsEmitted: number;
  /** Records in the pipeline's `rejected/` and `late/` objects. */
  readonly rejectedRecords: number;
  readonly lateRecords: number;
  /** Rows of the newest emitted window. */
  readonly lastWindowRows: number | null;
  /** Result rows dead-lettered for being over the Kinesis record limit (`.sink({ toStream })`). @default 0 */
  readonly resultsDeadLettered?: number;
}

/** `90s` → `1m30s`; whole units only. */
export function durationText(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest}ms`);
  return parts.join('');
}

function windowText(window: WindowSpec): string {
  switch (window.kind) {
    case 'tumbling':
      return `tumbling ${durationText(window.sizeMs)}`;
    case 'sliding':
      return `sliding ${durationText(window.sizeMs)} every ${durationText(window.slideMs)}`;
    case 'session':
      return `session, gap ${durationText(window.gapMs)}`;
  }
}

const NOT_COUNTED = 'not counted';

/** A backlog that was counted up to a limit reads `≥ 10,000`. */
function backlog(pending: number, atLeast: boolean): number | string {
  return atLeast ? `≥ ${pending.toLocaleString('en-US')}` : pending;
}

/** The graph of `topology` reading from `stream`, with `figures` when a sample exists. */
export function pipelineGraph(
  topology: PipelineTopology,
  stream: string,
  figures: GraphFigures | undefined,
): PipelineGraph {
  const f = figures;
  const rejectedAt = (stage: string): number | null =>
    f === undefined ? null : (f.rejectedByStage[stage] ?? 0);
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const shards = f?.shards ?? [];
  const pending =
    f === undefined
      ? null
      : backlog(
          shards.reduce((n, s) => n + s.pending, 0),
          shards.some((s) => s.pendingAtLeast),
        );

  nodes.push({
    id: 'stream',
    kind: 'stream',
    title: stream,
    subtitle:
      topology.source.table === undefined
        ? 'Kinesis stream'
        : `stream of table ${topology.source.stream} (${topology.source.table.view})`,
    col: 0,
    row: 0,
    stats: [
      { label: 'shards', value: f === undefined ? (topology.source.shards ?? null) : shards.length },
      { label: 'pending', value: pending, tone: 'warn' },
    ],
  });
  shards.forEach((shard, i) => {
    const id = `shard:${shard.id}`;
    nodes.push({
      id,
      kind: 'shard',
      title: shardLabel(shard.id),
      subtitle: shard.id,
      col: 1,
      row: i,
      stats: [
        { label: 'pending', value: backlog(shard.pending, shard.pendingAtLeast), tone: 'warn' },
        { label: 'iterator age', value: durationText(shard.iteratorAgeMs), tone: 'warn' },
        { label: 'records in', value: shard.taken.records },
      ],
    });
    edges.push({ from: 'stream', to: id, side: false, records: null });
    edges.push({ from: id, to: STAGE.CLEAN, side: false, records: shard.taken.records });
  });
  if (shards.length === 0) edges.push({ from: 'stream', to: STAGE.CLEAN, side: false, records: null });

  const taken = f?.taken;
  const cleanRejected = rejectedAt(STAGE.CLEAN);
  const cleanOut =
    taken === undefined || cleanRejected === null
      ? null
      : Math.max(0, taken.records - cleanRejected - taken.duplicates);
  let col = 2;
  nodes.push({
    id: STAGE.CLEAN,
    kind: 'clean',
    title: 'clean',
    subtitle: topology.clean.dedupe ? 'schema · event time · dedupe' : 'schema · event time',
    col,
    row: 0,
    stats: [
      { label: 'in', value: taken?.records ?? null },
      { label: 'out', value: cleanOut },
      { label: 'rejected', value: cleanRejected, tone: 'bad' },
      ...(topology.clean.dedupe
        ? [{ label: 'duplicates', value: taken?.duplicates ?? null, tone: 'warn' as const }]
        : []),
    ],
  });
  // Main-path edges carry the values that took them: out of clean, then out of each operator (the commits
  // count each operator's values in and passed on; stores written before they did have no such counts).
  let previous: string = STAGE.CLEAN;
  let previousOut: number | null = cleanOut;
  const link = (id: string, out: number | null = null): void => {
    edges.push({ from: previous, to: id, side: false, records: previousOut });
    previous = id;
    previousOut = out;
  };
  topology.operators.forEach((op, i) => {
    col += 1;
    const id = operatorStage(op.name);
    const counted = taken?.operators?.[i];
    nodes.push({
      id,
      kind: 'operator',
      title: op.kind,
      subtitle: op.name,
      col,
      row: 0,
      stats: [
        { label: 'in', value: counted?.[0] ?? (taken === undefined ? null : NOT_COUNTED) },
        { label: 'out', value: counted?.[1] ?? (taken === undefined ? null : NOT_COUNTED) },
        { label: 'rejected', value: rejectedAt(id), tone: 'bad' },
      ],
    });
    link(id, counted?.[1] ?? null);
  });
  const beforeKeyBy = previous;
  const sideRow = Math.max(1, shards.length);
  const rejectedNode: GraphNode = {
    id: 'rejected',
    kind: 'sideOutput',
    title: 'rejected/',
    subtitle: 'dead letters (JSON Lines)',
    col: 2,
    row: sideRow,
    stats: [{ label: 'records', value: f?.rejectedRecords ?? null, tone: 'bad' }],
  };
  const rejectEdges = (stages: readonly string[]): void => {
    for (const stage of stages) {
      const count = rejectedAt(stage);
      // Clean always shows its dead-letter edge; the others once they have used it.
      if (stage === STAGE.CLEAN || (count ?? 0) > 0)
        edges.push({ from: stage, to: 'rejected', side: true, records: count });
    }
  };
  const operatorStages = topology.operators.map((o) => operatorStage(o.name));
  if (topology.keyColumn === undefined || topology.window === undefined || topology.sink === undefined) {
    // A publish-only pipeline: the chain ends at the stream it publishes to (no key, window or table).
    col += 1;
    nodes.push({
      id: 'publish',
      kind: 'stream',
      title: topology.publish?.stream ?? '',
      subtitle: 'published (toStream), at least once',
      col,
      row: 0,
      stats: [{ label: 'published', value: taken === undefined ? null : (taken.published ?? 0) }],
    });
    link('publish');
    nodes.push(rejectedNode);
    rejectEdges([STAGE.CLEAN, ...operatorStages]);
    return { nodes, edges, cols: col + 1, rows: sideRow + 1 };
  }
  col += 1;
  const keyByCol = col;
  nodes.push({
    id: STAGE.KEY_BY,
    kind: 'keyBy',
    title: 'keyBy',
    subtitle: topology.keyColumn,
    col,
    row: 0,
    stats: [{ label: 'rejected', value: rejectedAt(STAGE.KEY_BY), tone: 'bad' }],
  });
  link(STAGE.KEY_BY);
  // Records that reached window state, or that a filter dropped: the commits count them together.
  const stored = taken === undefined ? null : taken.records - taken.rejected - taken.late - taken.duplicates;
  col += 1;
  const windowCol = col;
  nodes.push({
    id: STAGE.WINDOW,
    kind: 'window',
    title: 'window',
    subtitle: `${windowText(topology.window)} · lateness ${durationText(topology.time.allowedLatenessMs)}`,
    col,
    row: 0,
    stats: [
      { label: topology.operators.length === 0 ? 'stored' : 'stored or filtered', value: stored },
      { label: 'open', value: f?.windows.open ?? null },
      { label: 'closing', value: f?.windows.closing ?? null },
      { label: 'late', value: taken?.late ?? null, tone: 'bad' },
    ],
  });
  link(STAGE.WINDOW);
  col += 1;
  nodes.push({
    id: STAGE.AGGREGATE,
    kind: 'aggregate',
    title: 'aggregate',
    subtitle: topology.aggregates.map((a) => `${a.column}=${a.kind}`).join(', '),
    col,
    row: 0,
    stats: [
      { label: 'windows emitted', value: f?.windowsEmitted ?? null },
      { label: 'rejected', value: rejectedAt(STAGE.AGGREGATE), tone: 'bad' },
    ],
  });
  link(STAGE.AGGREGATE);
  col += 1;
  const tableCol = col;
  nodes.push({
    id: 'table',
    kind: 'table',
    title: topology.sink.table,
    subtitle: 'results (Parquet)',
    col,
    row: 0,
    stats: [
      { label: 'windows', value: f?.windowsEmitted ?? null },
      { label: 'rows in newest', value: f?.lastWindowRows ?? null },
    ],
  });
  link('table');

  nodes.push(rejectedNode);
  nodes.push({
    id: 'late',
    kind: 'sideOutput',
    title: 'late/',
    subtitle: 'after their window closed',
    col: windowCol,
    row: sideRow,
    stats: [{ label: 'records', value: f?.lateRecords ?? null, tone: 'bad' }],
  });
  rejectEdges([STAGE.CLEAN, ...operatorStages, STAGE.KEY_BY, STAGE.WINDOW, STAGE.AGGREGATE]);
  edges.push({ from: STAGE.WINDOW, to: 'late', side: true, records: taken?.late ?? null });
  if (topology.publish !== undefined) {
    // The values at the end of the chain also go on to the stream another pipeline reads.
    nodes.push({
      id: 'publish',
      kind: 'stream',
      title: topology.publish.stream,
      subtitle: 'published (toStream), at least once',
      col: keyByCol,
      row: sideRow,
      stats: [],
    });
    edges.push({ from: beforeKeyBy, to: 'publish', side: false, records: null });
  }
  if (topology.sink.toStream !== undefined) {
    // Every result row also goes on to the stream another pipeline reads, when its window closes. The runtime
    // keeps no count of the rows published (each emitted row is, at least once), so the edge carries none; what
    // is counted is the rows too big for a record, dead-lettered under `rejected-results/<table>/` instead.
    nodes.push({
      id: 'publish',
      kind: 'stream',
      title: topology.sink.toStream,
      subtitle: 'result rows published (sink toStream), at least once',
      col: tableCol,
      row: sideRow,
      stats: [
        {
          label: 'rows over 1 MiB (rejected-results/)',
          value: f === undefined ? null : (f.resultsDeadLettered ?? 0),
          tone: 'bad',
        },
      ],
    });
    edges.push({ from: 'table', to: 'publish', side: false, records: null });
  }
  return {
    nodes,
    edges,
    cols: col + 1,
    rows: sideRow + 1,
  };
}
