import { GOALS, renderResultsMarkdown } from '../../bench/resultsTable';

describe('renderResultsMarkdown', () => {
  it('gives each goal its verdict from the measured figure', () => {
    const md = renderResultsMarkdown({ engine: { ratio: 0.85 }, load: { lost: 3, maxRssMb: 400 } });
    expect(md).toContain('| engine | ratio | 0.85 | met (≥ 0.8) |');
    expect(md).toContain('| load | lost | 3 | NOT met (goal ≤ 0) |');
    expect(md).toContain('| load | maxRssMb | 400 | met (≤ 512) |');
    expect(md).toContain('| state | ratio | – | not measured |');
  });

  it('explains only the goals that are not met', () => {
    const md = renderResultsMarkdown({ engine: { ratio: 0.5 }, state: { ratio: 25, idempotentRatio: 30 } });
    const section = md.split('## Why the goals not met are not met')[1]?.split('## All figures')[0] ?? '';
    expect(section).toContain('**engine ratio**');
    expect(section).toContain('**state idempotentRatio**');
    expect(section).not.toContain('**state ratio**');
    expect(section).not.toContain('**e2e ratio**');
  });

  it('has no explanation section when every explained goal is met', () => {
    const md = renderResultsMarkdown({ engine: { ratio: 0.9 }, state: { ratio: 21, idempotentRatio: 41 }, e2e: { ratio: 0.95 } });
    expect(md).not.toContain('## Why the goals not met');
  });

  it('explains every goal that has a threshold and can fall short', () => {
    for (const goal of GOALS.filter((g) => g.atLeast !== undefined)) expect(goal.shortfall).toBeDefined();
  });
});
