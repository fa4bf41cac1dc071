import { historyPoints } from '../../../../localstack/console/plotSeries';
import { consoleView } from '../../../../localstack/console/viewModel';
import pageMinutes from '../../../../functions/pipelines/rollups/pageMinutes';
import { busySample, busyStatus, clicks, minute, SAMPLE_AT } from '../../../helpers/consoleFixtures';

const topology = clicks.topology();
const AT = SAMPLE_AT;
const status = busyStatus;
const sample = busySample;

describe('consoleView', () => {
  const context = {
    endpoint: 'http://127.0.0.1:4566',
    intervalMs: 2_000,
    pendingLimit: 4,
    pipelines: [{ topology, stream: 's' }],
  };

  it('when no sample has been taken yet, it shows the graph of the definition and no figures', () => {
    const view = consoleView(context, { seq: 0, latest: undefined, history: [], error: undefined });
    expect(view.sampledAt).toBeNull();
    expect(view.error).toBeNull();
    const [pipeline] = view.pipelines;
    expect(pipeline?.counters).toBeNull();
    expect(pipeline?.graph.nodes.length).toBeGreaterThan(0);
    expect(pipeline?.plots.map((p) => p.x.length)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('when a sample exists, it gives the counters, shard rows and windows of the latest one', () => {
    const view = consoleView(context, {
      seq: 3,
      latest: { at: AT, tookMs: 120, value: [sample] },
      history: [{ at: AT, point: historyPoints(context.pipelines, [sample], AT) }],
      error: 'Local cloud not reachable',
    });
    expect(view).toMatchObject({ seq: 3, sampledAt: AT, sampleMs: 120, error: 'Local cloud not reachable' });
    const [pipeline] = view.pipelines;
    expect(pipeline?.counters).toEqual({
      records: 100,
      rejected: 3,
      late: 1,
      duplicates: 1,
      pending: 4,
      pendingAtLeast: true,
      windowsOpen: 1,
      windowsClosing: 2,
      windowsEmitted: 4,
      watermark: minute(7, 30),
      watermarkLagMs: 150_000,
      closedUpTo: null,
      endOfInput: false,
    });
    expect(pipeline?.shards[0]).toEqual({
      id: 'shardId-000000000000',
      pending: 4,
      pendingAtLeast: true,
      iteratorAgeMs: 2_500,
      watermark: minute(8),
      watermarkLagMs: 120_000,
      lastActivity: AT - 1_000,
      records: 70,
      closed: false,
    });
    expect(pipeline?.plots[0]?.x).toEqual([AT / 1000]);
  });

  it('when bounded input has ended, it says so and every pending window is closing', () => {
    const ended = { ...sample, status: { ...status, closedWatermark: Number.MAX_SAFE_INTEGER } };
    const view = consoleView(context, {
      seq: 1,
      latest: { at: AT, tookMs: 1, value: [ended] },
      history: [],
      error: undefined,
    });
    expect(view.pipelines[0]?.counters?.endOfInput).toBe(true);
    expect(view.pipelines[0]?.windows?.closing).toBe(3);
  });

  it('when a sample counted result rows dead-lettered for their size, the graph of a results-publishing pipeline shows them', () => {
    const minutes = { topology: pageMinutes.topology(), stream: 's' };
    const view = consoleView(
      { ...context, pipelines: [minutes] },
      {
        seq: 1,
        latest: { at: AT, tookMs: 1, value: [{ ...sample, resultsDeadLettered: 2 }] },
        history: [],
        error: undefined,
      },
    );
    const node = view.pipelines[0]?.graph.nodes.find((n) => n.id === 'publish');
    expect(node?.stats).toEqual([{ label: 'rows over 1 MiB (rejected-results/)', value: 2, tone: 'bad' }]);
  });
});
