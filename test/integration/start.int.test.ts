/**
 * `npm start` end to end: the real CLI (`tsx localstack/cli/main.ts start`) synthesizes the CDK app,
 * starts the embedded cloud, deploys, streams a generated clickstream, closes every window and prints
 * SQL answers. The printed answers are checked here against the generator's known totals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import devicePurchases from '../fixtures/pipelines/devicePurchases';
import { generateClickstream, type ActivityTotals } from '../../localstack/generator/clickstream';
import { startClickstream } from '../../localstack/start/runStart';
import { runCli as run } from '../helpers/cli';

const EVENTS = 400;
const SEED = 7;

/** Rows of the printed table that follows `title` (cells split on ` | `). */
function printedTable(stdout: string, title: string): string[][] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(title);
  if (start < 0) throw new Error(`table "${title}" not printed`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 3)) {
    if (/^\(\d+ rows?\)$/.test(line)) return rows;
    rows.push(line.split(' | ').map((c) => c.trim()));
  }
  throw new Error(`table "${title}" has no row count`);
}

describe('npm start', () => {
  let stateDir: string;
  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'sf-start-'));
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('when run with a small event count, it prints answers equal to the generator totals and exits 0', async () => {
    const { code, stdout, stderr } = await run(
      ['start', '--events', String(EVENTS), '--seed', String(SEED)],
      {
        ...process.env,
        SHARDFLOW_STATE_DIR: stateDir,
        AWS_ENDPOINT_URL: '',
      },
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

    const spec = pageActivity.spec;
    if (spec.window!.kind !== 'tumbling') throw new Error('page-activity uses tumbling windows');
    const { totals } = generateClickstream({
      events: EVENTS,
      seed: SEED,
      windowMs: spec.window!.sizeMs,
      maxOutOfOrdernessMs: spec.time.maxOutOfOrdernessMs,
      allowedLatenessMs: spec.time.allowedLatenessMs,
    });
    const asRow = (group: string, t: ActivityTotals): string[] => [
      group,
      String(t.count),
      String(t.purchases),
      String(t.revenue),
    ];

    const expectedTop = Object.entries(totals.byPage)
      .sort(([pa, a], [pb, b]) => b.count - a.count || (pa < pb ? -1 : 1))
      .slice(0, 5)
      .map(([page, t]) => asRow(page, t));
    expect(printedTable(stdout, 'Top 5 pages by events')).toEqual(expectedTop);

    const perMinute = printedTable(stdout, 'Activity per minute (event time, UTC)').map((r) => r.slice(0, 4));
    const expectedPerMinute = Object.entries(totals.byWindow)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([start, t]) => asRow(start.slice(11, 16), t));
    expect(perMinute).toEqual(expectedPerMinute);

    expect(stdout).toContain(`${totals.injected.malformed} records rejected, ${totals.injected.late} late`);
    expect(stdout).toContain("✓ every answer matches the generator's known totals");
  }, 300_000);
  it('when given a pipeline module, it deploys that pipeline, drives it with the clickstream and prints its result table', async () => {
    const module = 'test/fixtures/pipelines/devicePurchases.ts';
    const { code, stdout, stderr } = await run(['start', module, '--events', '300', '--seed', String(SEED)], {
      ...process.env,
      SHARDFLOW_STATE_DIR: stateDir,
      AWS_ENDPOINT_URL: '',
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain("device_purchases_5m's rows are above");
    const rows = printedTable(stdout, 'Every row of device_purchases_5m');
    expect(rows.length).toBeGreaterThan(0);
    const { totals } = startClickstream(devicePurchases.spec, 300, SEED);
    // Columns: device, window_start, window_end, clicks, …. Every on-time event once (duplicates dropped);
    // at most the malformed records this looser schema lets through on top.
    const clicks = rows.reduce((sum, row) => sum + Number(row[3]), 0);
    expect(clicks).toBeGreaterThanOrEqual(totals.overall.count);
    expect(clicks).toBeLessThanOrEqual(totals.overall.count + totals.injected.malformed);
  }, 600_000);
});
