import { historyPoints, plots, type HistoryPoint } from '../../../../localstack/console/plotSeries';
import { busySample, clicks, SAMPLE_AT } from '../../../helpers/consoleFixtures';

const topology = clicks.topology();
const AT = SAMPLE_AT;
const sample = busySample;

describe('plots', () => {
  it('when a shard appears later, its series has no value before it', () => {
    const first = historyPoints([{ topology }], [sample], AT)[0] as HistoryPoint;
    const earlier: HistoryPoint = { ...first, shards: first.shards.slice(0, 1) };
    const [backlog, age, , lag, windows, records] = plots([
      { at: AT - 2_000, point: earlier },
      { at: AT, point: first },
    ]);
    expect(backlog?.x).toEqual([(AT - 2_000) / 1000, AT / 1000]);
    expect(backlog?.series).toEqual([
      { label: 'shard0', values: [4, 4] },
      { label: 'shard1', values: [null, 0] },
    ]);
    expect(age?.series[0]?.values).toEqual([2.5, 2.5]);
    // lag = wall clock − watermark, per shard and for the pipeline
    expect(lag?.series.map((s) => [s.label, s.values[1]])).toEqual([
      ['shard0', 120],
      ['shard1', 150],
      ['pipeline', 150],
    ]);
    expect(windows?.series.map((s) => s.values[1])).toEqual([1, 2, 4]);
    expect(records?.series.map((s) => s.values[1])).toEqual([100, 3, 1, 1]);
  });
});
