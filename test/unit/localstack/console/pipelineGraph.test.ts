import { durationText, pipelineGraph, type GraphFigures } from '../../../../localstack/console/pipelineGraph';
import { clicks } from '../../../helpers/consoleFixtures';
import { pageActivity } from '../../../../functions/pipelines/pageActivity';
import orderRevenue from '../../../../functions/pipelines/orders/orderRevenue';

const figures: GraphFigures = {
  shards: [
    {
      id: 'shardId-000000000000',
      pending: 5,
      pendingAtLeast: false,
      iteratorAgeMs: 3_000,
      taken: { records: 60, rejected: 3, late: 1, duplicates: 2 },
    },
    {
      id: 'shardId-000000000001',
      pending: 10_000,
      pendingAtLeast: true,
      iteratorAgeMs: 0,
      taken: { records: 40, rejected: 2, late: 0, duplicates: 0 },
    },
  ],
  taken: {
    records: 100,
    rejected: 5,
    late: 1,
    duplicates: 2,
    // toCents: 95 in, 94 passed on (one threw); dropHealth: 94 in, 90 kept.
    operators: [
      [95, 94],
      [94, 90],
    ],
  },
  rejectedByStage: { clean: 3, 'operator:toCents': 1, aggregate: 1 },
  windows: { open: 2, closing: 1 },
  windowsEmitted: 4,
  rejectedRecords: 5,
  lateRecords: 1,
  lastWindowRows: 12,
};

const stat = (graph: ReturnType<typeof pipelineGraph>, node: string, label: string) =>
  graph.nodes.find((n) => n.id === node)?.stats.find((s) => s.label === label)?.value;

describe('pipelineGraph', () => {
  it('when a pipeline has operators, the main path runs stream → shards → clean → operators → keyBy → window → aggregate → table', () => {
    const graph = pipelineGraph(clicks.topology(), 'clicks-physical', figures);
    const main = graph.edges.filter((e) => !e.side).map((e) => `${e.from}>${e.to}`);
    expect(main).toEqual([
      'stream>shard:shardId-000000000000',
      'shard:shardId-000000000000>clean',
      'stream>shard:shardId-000000000001',
      'shard:shardId-000000000001>clean',
      'clean>operator:toCents',
      'operator:toCents>operator:dropHealth',
      'operator:dropHealth>keyBy',
      'keyBy>window',
      'window>aggregate',
      'aggregate>table',
    ]);
    expect(graph.nodes.map((n) => [n.id, n.col, n.row])).toEqual([
      ['stream', 0, 0],
      ['shard:shardId-000000000000', 1, 0],
      ['shard:shardId-000000000001', 1, 1],
      ['clean', 2, 0],
      ['operator:toCents', 3, 0],
      ['operator:dropHealth', 4, 0],
      ['keyBy', 5, 0],
      ['window', 6, 0],
      ['aggregate', 7, 0],
      ['table', 8, 0],
      ['rejected', 2, 2],
      ['late', 6, 2],
    ]);
    expect({ cols: graph.cols, rows: graph.rows }).toEqual({ cols: 9, rows: 3 });
  });

  it('when figures exist, each node carries the counts known for it and labels the ones that are not', () => {
    const graph = pipelineGraph(clicks.topology(), 'clicks-physical', figures);
    expect(graph.nodes[0]?.title).toBe('clicks-physical');
    // A backlog counted up to the limit says there may be more.
    expect(stat(graph, 'stream', 'pending')).toBe('≥ 10,005');
    expect(stat(graph, 'shard:shardId-000000000001', 'pending')).toBe('≥ 10,000');
    expect(stat(graph, 'shard:shardId-000000000000', 'pending')).toBe(5);
    expect(graph.nodes[1]?.title).toBe('shard0');
    expect(stat(graph, 'shard:shardId-000000000000', 'iterator age')).toBe('3s');
    expect(stat(graph, 'clean', 'in')).toBe(100);
    // out of clean = in − what clean rejected − duplicates dropped
    expect(stat(graph, 'clean', 'out')).toBe(95);
    expect(stat(graph, 'clean', 'duplicates')).toBe(2);
    expect(stat(graph, 'operator:toCents', 'in')).toBe(95);
    expect(stat(graph, 'operator:toCents', 'out')).toBe(94);
    expect(stat(graph, 'operator:dropHealth', 'out')).toBe(90);
    expect(stat(graph, 'operator:toCents', 'rejected')).toBe(1);
    expect(stat(graph, 'operator:dropHealth', 'rejected')).toBe(0);
    expect(stat(graph, 'window', 'stored or filtered')).toBe(92);
    expect(stat(graph, 'window', 'closing')).toBe(1);
    expect(stat(graph, 'aggregate', 'windows emitted')).toBe(4);
    expect(stat(graph, 'table', 'rows in newest')).toBe(12);
    expect(stat(graph, 'late', 'records')).toBe(1);
    const counted = graph.edges
      .filter((e) => e.records !== null)
      .map((e) => [`${e.from}>${e.to}`, e.records]);
    expect(counted).toEqual([
      ['shard:shardId-000000000000>clean', 60],
      ['shard:shardId-000000000001>clean', 40],
      ['clean>operator:toCents', 95],
      ['operator:toCents>operator:dropHealth', 94],
      ['operator:dropHealth>keyBy', 90],
      ['clean>rejected', 3],
      ['operator:toCents>rejected', 1],
      ['aggregate>rejected', 1],
      ['window>late', 1],
    ]);
  });

  it('when the commits did not count per operator (state written before they did), the operator nodes say so', () => {
    const graph = pipelineGraph(clicks.topology(), 'clicks-physical', {
      ...figures,
      taken: { records: 100, rejected: 5, late: 1, duplicates: 2 },
    });
    expect(stat(graph, 'operator:toCents', 'in')).toBe('not counted');
    expect(graph.edges.find((e) => e.from === 'operator:toCents')?.records).toBeNull();
  });

  it('when no sample exists yet, it still draws every stage, with unknown figures as null', () => {
    const graph = pipelineGraph(pageActivity.topology(), 'clickstream', undefined);
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'stream',
      'clean',
      'keyBy',
      'window',
      'aggregate',
      'table',
      'rejected',
      'late',
    ]);
    expect(stat(graph, 'stream', 'shards')).toBe(2);
    expect(stat(graph, 'clean', 'in')).toBeNull();
    expect(stat(graph, 'window', 'stored')).toBeNull();
    expect(graph.nodes.find((n) => n.id === 'window')?.subtitle).toBe('tumbling 1m · lateness 30s');
  });
});

describe('durationText', () => {
  it.each([
    [0, '0s'],
    [450, '450ms'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [86_400_000 + 1_000, '1d1s'],
  ])('when given %d ms, it reads %s', (ms, text) => {
    expect(durationText(ms)).toBe(text);
  });
});

describe('pipelineGraph of a table source', () => {
  it('labels the source node as the stream of the table, with its view, not as a Kinesis stream', () => {
    const graph = pipelineGraph(
      orderRevenue.topology(),
      'arn:aws:dynamodb:r:1:table/orders/stream/x',
      undefined,
    );
    const source = graph.nodes.find((n) => n.id === 'stream')!;
    expect(source.subtitle).toBe('stream of table orders (NEW_AND_OLD_IMAGES)');
    expect(pipelineGraph(pageActivity.topology(), 'clickstream', undefined).nodes[0]!.subtitle).toBe(
      'Kinesis stream',
    );
  });
});
