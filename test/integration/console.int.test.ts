/**
 * `shardflow console` in a real browser (issue 18): the local stack deployed, the console started through the
 * bin as users run it, the page opened in headless Chromium (Debian's package, driven by playwright-core),
 * and records sent with the project's own sender. The graph, the plots and the counters must appear, change
 * while records flow, and show hostile record content as text. The last state is saved as a screenshot under
 * .shardflow/ (ignored by git); with UPDATE_SCREENSHOT=1 it replaces docs/console.png, the one the README shows.
 *
 * Needs a Chromium binary: /usr/bin/chromium or CHROMIUM_PATH. Without one this file says so and skips.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pageActivity } from '../../functions/pipelines/pageActivity';
import { generateClickstream } from '../../localstack/generator/clickstream';
import type { InputRecord } from '../../localstack/start/inputFile';
import { openLocalSession, type LocalSession } from '../../localstack/start/localSession';
import { writeOutputs } from '../../localstack/start/localTarget';
import { sendRecords } from '../../localstack/start/sendRecords';
import { synthesizeCached } from '../../localstack/start/synthesize';
import { CLI_BIN, NODE, ROOT, waitForOutput } from '../helpers/cli';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `console.int.test.ts skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
const describeInBrowser = haveChromium ? describe : describe.skip;

const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? join(ROOT, 'docs', 'console.png')
    : join(ROOT, '.shardflow', 'console.png');
/** A payload and partition key that would run script if the page parsed them as HTML. */
const HOSTILE_PAGE = '<img src=x onerror=window.__injected=1>';
const HOSTILE_KEY = '<b id="injected">key</b>';

/** The number a counter shows (its `data-value`). */
async function counter(page: Page, name: string): Promise<number> {
  return Number(await page.locator(`[data-counter="${name}"]`).getAttribute('data-value'));
}

/**
 * Polls `check` from the test until it holds. (Playwright's waitForFunction evaluates its predicate with
 * `eval`, which the console's Content-Security-Policy forbids, as it should; locators read the page without.)
 */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until counter `name` reaches at least `min`. */
function counterReaches(page: Page, name: string, min: number): Promise<void> {
  return until(`${name} ≥ ${min}`, async () => (await counter(page, name)) >= min);
}

/** Samples a plot holds. */
async function points(page: Page, plot: string): Promise<number> {
  return Number(await page.locator(`[data-plot="${plot}"]`).getAttribute('data-points'));
}

describeInBrowser('shardflow console in a browser', () => {
  let session: LocalSession | undefined;
  let stateDir: string;
  let served: ChildProcessWithoutNullStreams | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'sf-console-'));
    // Cached under the project's .shardflow/ like `npm start`'s synth (the bundles resolve the SDK from there).
    const { templatePath } = await synthesizeCached(ROOT);
    session = await openLocalSession({ templatePath });
    // Where `status` and `console` find the deployment: the stack outputs a `start --keep` records.
    writeOutputs(session.outputs, join(stateDir, 'outputs.json'));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (served !== undefined && served.exitCode === null) served.kill('SIGKILL');
    await session?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('when records are sent, the graph, plots and counters appear and change, and record content stays text', async () => {
    const cloud = session as LocalSession;
    served = spawn(NODE, [CLI_BIN, 'console', '--port', '0', '--interval', '1'], {
      cwd: ROOT,
      env: { ...process.env, SHARDFLOW_STATE_DIR: stateDir, AWS_ENDPOINT_URL: cloud.cloud.endpoint },
    });
    const printed = await waitForOutput(served, 'Ctrl-C stops it', 60_000);
    const url = /shardflow console at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed)?.[1];
    expect(url).toBeDefined();

    browser = await chromium.launch({ executablePath: CHROMIUM });
    const page = await browser.newPage({ viewport: { width: 1360, height: 1500 } });
    const problems: string[] = [];
    page.on('console', (m) => (m.type() === 'error' ? problems.push(m.text()) : undefined));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url as string);

    // The graph: source to sinks, every stage of the pipeline definition.
    await page.waitForSelector('[data-node="clean"]');
    for (const node of ['stream', 'clean', 'keyBy', 'window', 'aggregate', 'table', 'rejected', 'late'])
      expect(await page.locator(`[data-node="${node}"]`).count()).toBe(1);
    // The plots, drawn by uPlot, and the counters of a first sample (nothing sent yet).
    await until('six plots', async () => (await page.locator('[data-plot] canvas').count()) === 6);
    await until(
      'a first sample',
      async () => Number(await page.locator('body').getAttribute('data-seq')) >= 1,
    );
    expect(await counter(page, 'records')).toBe(0);
    expect(await page.locator('[data-node^="shard:"]').count()).toBe(2);
    const cleanBefore = await page.locator('[data-node="clean"]').textContent();
    const pointsBefore = await points(page, 'backlog');

    const stream = cloud.streamOf(pageActivity.spec);
    const { records } = generateClickstream({ events: 300, seed: 18, baseTime: Date.now() - 6 * 60_000 });
    const input: InputRecord[] = records.map((r) => ({ data: r.data, partitionKey: r.partitionKey }));
    const half = Math.floor(input.length / 2);
    const send = (batch: readonly InputRecord[]) =>
      sendRecords(batch, { kinesis: cloud.clients.kinesis, stream });

    expect(await counter(page, 'watermark')).toBeNaN();
    await send(input.slice(0, half));
    await counterReaches(page, 'records', half);
    // The watermark follows the events' time: they span the last 6 minutes.
    expect(await counter(page, 'watermark')).toBeGreaterThan(Date.now() - 10 * 60_000);
    const cleanMiddle = await page.locator('[data-node="clean"]').textContent();
    expect(cleanMiddle).not.toEqual(cleanBefore);
    expect(await points(page, 'backlog')).toBeGreaterThan(pointsBefore);

    await send([
      ...input.slice(half),
      { data: JSON.stringify({ page: HOSTILE_PAGE, ts: 'now' }), partitionKey: HOSTILE_KEY },
    ]);
    await counterReaches(page, 'records', input.length + 1);
    // Windows close as the watermark passes them (the tick runs every 5 s on the local cloud).
    await counterReaches(page, 'windowsEmitted', 1);
    await until(
      'result rows',
      async () => (await page.locator('[data-part="results"] tbody tr').count()) > 0,
    );
    await until('the hostile record listed', async () =>
      ((await page.locator('[data-part="rejected"]').textContent()) ?? '').includes(HOSTILE_PAGE),
    );
    expect(await counter(page, 'rejected')).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-node="clean"]').textContent()).not.toEqual(cleanMiddle);
    // The hostile strings are shown as text: no element they describe exists, no script they carry ran.
    expect(await page.locator('[data-part="rejected"] img').count()).toBe(0);
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.evaluate('typeof window.__injected')).toBe('undefined');
    expect(await page.locator('[data-part="rejected"]').textContent()).toContain(HOSTILE_KEY);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
    // No script error and no blocked resource (the Content-Security-Policy allows only the console's own files).
    expect(problems).toEqual([]);
  }, 120_000);
});
