import { GOALS, renderResultsMarkdown } from '../../bench/resultsTable';

describe('renderResultsMarkdown', () => {
  it('gives each goal its verdict from the measured figure', () => {
    const md = renderResultsMarkdown({ engine: { ratio: 0.85 }, load: { lost: 3, maxRssMb: 400 } });
    expect(md).toContain('| engine | ratio | 0.85 | met (≥ 0.6) |');
    expect(md).toContain('| load | lost | 3 | NOT met (goal ≤ 0) |');
    expect(md).toContain('| load | maxRssMb | 400 | met (≤ 512) |');
    expect(md).toContain('| state | maxRequestsPer1000 | – | not measured |');
  });

  it('explains only the goals that are not met', () => {
    const md = renderResultsMarkdown({
      engine: { ratio: 0.5 },
      state: { writeUnitsVsNaive50Keys: 35, writeUnitsVsNaive10000Keys: 3 },
    });
    const section = md.split('## Why the goals not met are not met')[1]?.split('## All figures')[0] ?? '';
    expect(section).toContain('**engine ratio**');
    expect(section).toContain('**state writeUnitsVsNaive10000Keys**');
    expect(section).not.toContain('**state writeUnitsVsNaive50Keys**');
    expect(section).not.toContain('**e2e ratio**');
  });

  it('has no explanation section when every explained goal is met', () => {
    const md = renderResultsMarkdown({
      engine: { ratio: 0.9 },
      state: { writeUnitsVsNaive50Keys: 31, writeUnitsVsNaive10000Keys: 6, costVsNaive: 6 },
      e2e: { ratio: 0.95 },
    });
    expect(md).not.toContain('## Why the goals not met');
  });

  it('flattens a matrix into one figure per cell, labelled by keys and shards', () => {
    const md = renderResultsMarkdown({
      state: {
        matrix: [{ keys: 50, shards: 4, writeUnitsPer1000: 30, costPerMillionUsd: { shardflow: 0.1 } }],
      },
    });
    expect(md).toContain('| state | matrix[keys=50,shards=4].writeUnitsPer1000 | 30 |');
    expect(md).toContain('| state | matrix[keys=50,shards=4].costPerMillionUsd.shardflow | 0.1 |');
  });

  it('explains every goal that has a threshold and can fall short', () => {
    for (const goal of GOALS.filter((g) => g.atLeast !== undefined)) expect(goal.shortfall).toBeDefined();
  });
});
