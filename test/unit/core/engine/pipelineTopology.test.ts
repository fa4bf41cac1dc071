import { clicks } from '../../../helpers/consoleFixtures';
import { pageActivity } from '../../../../functions/pipelines/pageActivity';

describe('CompiledPipeline.topology', () => {
  it('when a pipeline chains operators, it lists every stage in order without the functions', () => {
    expect(clicks.topology()).toEqual({
      name: 'clicks',
      source: { stream: 'clicks', shards: 2 },
      clean: { dedupe: true },
      operators: [
        { kind: 'map', name: 'toCents' },
        { kind: 'filter', name: 'dropHealth' },
      ],
      keyColumn: 'page',
      window: { kind: 'tumbling', sizeMs: 60_000 },
      time: clicks.spec.time,
      aggregates: [
        { column: 'views', kind: 'count' },
        { column: 'cents', kind: 'sum' },
      ],
      sink: { table: 'clicks_minutely' },
    });
  });

  it('when a pipeline has no operators, the chain is empty and the aggregates keep their kinds', () => {
    const topology = pageActivity.topology();
    expect(topology.operators).toEqual([]);
    expect(topology.aggregates.map((a) => a.kind)).toEqual([
      'count',
      'count',
      'sum',
      'avg',
      'max',
      'percentile',
      'distinctCount',
      'topK',
    ]);
    expect(JSON.parse(JSON.stringify(topology))).toEqual(topology);
  });
});
