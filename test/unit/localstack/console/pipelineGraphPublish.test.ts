import { pipelineGraph } from '../../../../localstack/console/pipelineGraph';
import cleanSessions from '../../../../functions/pipelines/twoStages/cleanSessions';
import { pageActivity } from '../../../../functions/pipelines/pageActivity';

describe('pipeline graph of a pipeline that publishes', () => {
  it('when a pipeline publishes to a stream, the graph shows that stream fed from the end of the operator chain', () => {
    const graph = pipelineGraph(cleanSessions.topology(), 'clickstream', undefined);
    const publish = graph.nodes.find((n) => n.id === 'publish');
    const keyBy = graph.nodes.find((n) => n.id === 'keyBy');
    expect(publish).toMatchObject({
      kind: 'stream',
      title: 'sessions',
      subtitle: 'published (toStream), at least once',
      col: keyBy?.col,
    });
    const lastOperator = graph.edges.find((e) => e.to === 'keyBy')?.from;
    expect(graph.edges).toContainEqual({ from: lastOperator, to: 'publish', side: false, records: null });
    expect(cleanSessions.topology().publish).toEqual({ stream: 'sessions' });
  });

  it('when a pipeline does not publish, there is no such node', () => {
    const graph = pipelineGraph(pageActivity.topology(), 'clickstream', undefined);
    expect(graph.nodes.map((n) => n.id)).not.toContain('publish');
    expect(pageActivity.topology()).not.toHaveProperty('publish');
  });
});
