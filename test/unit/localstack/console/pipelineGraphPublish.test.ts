import { pipelineGraph } from '../../../../localstack/console/pipelineGraph';
import cleanSessions from '../../../../functions/pipelines/twoStages/cleanSessions';
import { pageActivity } from '../../../../functions/pipelines/pageActivity';
import { tapping } from '../../../helpers/tappingPipeline';
import pageMinutes from '../../../../functions/pipelines/rollups/pageMinutes';
import pageHours from '../../../../functions/pipelines/rollups/pageHours';

describe('pipeline graph of a pipeline that publishes', () => {
  it('when a windowed pipeline publishes to a stream, the graph shows that stream fed from the end of the operator chain', () => {
    const graph = pipelineGraph(tapping.topology(), 'clickstream', undefined);
    const publish = graph.nodes.find((n) => n.id === 'publish');
    const keyBy = graph.nodes.find((n) => n.id === 'keyBy');
    expect(publish).toMatchObject({
      kind: 'stream',
      title: 'views',
      subtitle: 'published (toStream), at least once',
      col: keyBy?.col,
    });
    const lastStage = graph.edges.find((e) => e.to === 'keyBy')?.from;
    expect(graph.edges).toContainEqual({ from: lastStage, to: 'publish', side: false, records: null });
  });

  it('when a pipeline only publishes, its chain ends at the stream, with no key, window, table or late/ nodes, and counts what it published', () => {
    const figures = {
      shards: [],
      taken: { records: 10, rejected: 1, late: 0, duplicates: 0, published: 9 },
      rejectedByStage: {},
      windows: { open: 0, closing: 0 },
      windowsEmitted: 0,
      rejectedRecords: 1,
      lateRecords: 0,
      lastWindowRows: null,
    };
    const graph = pipelineGraph(cleanSessions.topology(), 'clickstream', figures);
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'stream',
      'clean',
      'operator:map#1',
      'publish',
      'rejected',
    ]);
    expect(graph.nodes.find((n) => n.id === 'publish')).toEqual({
      id: 'publish',
      kind: 'stream',
      title: 'sessions',
      subtitle: 'published (toStream), at least once',
      col: 4,
      row: 0,
      stats: [{ label: 'published', value: 9 }],
    });
    expect(graph.edges.filter((e) => e.to === 'publish').map((e) => e.from)).toEqual(['operator:map#1']);
    expect(cleanSessions.topology().publish).toEqual({ stream: 'sessions' });
  });

  it('when a pipeline publishes its window results (sink toStream), the graph shows that stream fed from the results table', () => {
    const graph = pipelineGraph(pageMinutes.topology(), 'clickstream', undefined);
    const table = graph.nodes.find((n) => n.id === 'table');
    expect(graph.nodes.find((n) => n.id === 'publish')).toEqual({
      id: 'publish',
      kind: 'stream',
      title: 'page-minutes',
      subtitle: 'result rows published (sink toStream), at least once',
      col: table?.col,
      row: 1,
      stats: [{ label: 'rows over 1 MiB (rejected-results/)', value: null, tone: 'bad' }],
    });
    // The runtime keeps no count of published rows: the edge carries none.
    expect(graph.edges.filter((e) => e.to === 'publish')).toEqual([
      { from: 'table', to: 'publish', side: false, records: null },
    ]);
    expect(graph.cols).toBeGreaterThan(table!.col);
  });

  it('when a sample counted result rows dead-lettered for their size, the results stream node shows how many', () => {
    const figures = {
      shards: [],
      taken: { records: 10, rejected: 0, late: 0, duplicates: 0 },
      rejectedByStage: {},
      windows: { open: 0, closing: 0 },
      windowsEmitted: 3,
      rejectedRecords: 0,
      lateRecords: 0,
      lastWindowRows: 2,
    };
    const stat = (f: Parameters<typeof pipelineGraph>[2]) =>
      pipelineGraph(pageMinutes.topology(), 'clickstream', f)
        .nodes.find((n) => n.id === 'publish')
        ?.stats.find((s) => s.label === 'rows over 1 MiB (rejected-results/)')?.value;
    expect(stat({ ...figures, resultsDeadLettered: 2 })).toBe(2);
    // A sample that did not read them (none published) shows none yet.
    expect(stat(figures)).toBe(0);
  });

  it('when a pipeline does not publish, there is no such node', () => {
    for (const p of [pageActivity, pageHours]) {
      const graph = pipelineGraph(p.topology(), 'clickstream', undefined);
      expect(graph.nodes.map((n) => n.id)).not.toContain('publish');
      expect(graph.edges.map((e) => e.to)).not.toContain('publish');
    }
    expect(pageActivity.topology()).not.toHaveProperty('publish');
  });
});
