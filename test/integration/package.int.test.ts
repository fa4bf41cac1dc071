/**
 * shardflow as a library, the way a user takes it (issue 15): the project is packed, the tarball installed
 * into a directory outside this repo, `shardflow init` scaffolds a project there, a second pipeline is
 * added by hand, the scaffold's tests run, that pipeline runs through the local stack with `shardflow run`,
 * and the user's CDK app synthesizes (cdk-nag on) with one small bundle per function. Nothing in this repo
 * is edited. npm resolves from its cache first (`--prefer-offline`): `npm ci` caches package tarballs but
 * not the registry metadata a fresh `npm install` resolves versions with.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, AWS_ENDPOINT_URL: '', npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** `result` succeeded; on failure the assertion shows the command's last output. */
function expectOk(result: Run, what: string): void {
  expect({
    what,
    code: result.code,
    tail: result.code === 0 ? '' : (result.stderr + result.stdout).slice(-3000),
  }).toEqual({
    what,
    code: 0,
    tail: '',
  });
}

const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund'];

const SECOND_PIPELINE = `import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { count, pipeline, sum, tumbling } from 'shardflow';

z.config(en());

const Sale = z.object({
  eventId: z.string().check(z.minLength(1)),
  page: z.string().check(z.minLength(1)),
  action: z.string(),
  revenue: z.number().check(z.nonnegative()),
  ts: z.iso.datetime({ offset: true }),
});

export default pipeline('page-revenue')
  .source({ stream: 'page-revenue', shards: 1 })
  .clean({ schema: Sale, eventTime: (s) => Date.parse(s.ts), dedupeBy: (s) => s.eventId })
  .keyBy((s) => s.page, 'page')
  .window(tumbling('5m'), { allowedLateness: '1m', maxOutOfOrderness: '10s', idleTimeout: '30s' })
  .aggregate({ events: count(), revenue: sum((s) => s.revenue) })
  .sink({ table: 'page_revenue_5m' });
`;

describe('the packed library in a user project', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-user-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when installed from the tarball, init scaffolds a project whose tests, local run and cdk synth work with a pipeline added by hand', async () => {
    const packed = await run('npm', ['pack', '--pack-destination', dir], ROOT);
    expectOk(packed, 'npm pack');
    const tarball = join(dir, packed.stdout.trim().split('\n').pop() ?? '');
    const project = join(dir, 'my-pipelines');
    mkdirSync(project);
    expectOk(await run('npm', ['init', '-y'], project), 'npm init');
    expectOk(await run('npm', [...NPM_INSTALL, tarball], project), 'npm install <tarball>');
    // The console's page (static files shipped in dist/) and uPlot (a dependency) load from the installed package.
    const server = join(
      project,
      'node_modules',
      'shardflow',
      'dist',
      'localstack',
      'console',
      'consoleServer.js',
    );
    const assets = await run(
      process.execPath,
      ['-e', `console.log([...require(${JSON.stringify(server)}).consoleAssets().keys()].join(' '))`],
      project,
    );
    expectOk(assets, 'console assets of the installed package');
    expect(assets.stdout.trim()).toBe(
      '/ /console.js /dom.js /graph.js /plots.js /console.css /vendor/uPlot.iife.min.js /vendor/uPlot.min.css',
    );

    const init = await run(join(project, 'node_modules', '.bin', 'shardflow'), ['init', '.'], project);
    expectOk(init, 'shardflow init');
    expect(init.stdout).toContain('npm install && npm test');
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(manifest.scripts).toMatchObject({ test: 'jest', start: expect.stringContaining('shardflow run') });
    expect(manifest.dependencies.shardflow).toMatch(/^file:/);
    const again = await run(join(project, 'node_modules', '.bin', 'shardflow'), ['init', '.'], project);
    expect({ code: again.code, error: again.stderr.trim() }).toEqual({
      code: 1,
      error: expect.stringMatching(
        /^shardflow: .* already has cdk\.json, app\.ts.*init writes only new files/,
      ),
    });

    const install = await run('npm', NPM_INSTALL, project);
    expectOk(install, 'npm install (scaffold)');
    // The scaffold declares which dependency install scripts run (none): npm has nothing to warn about.
    expect(install.stderr).not.toContain('install-scripts');
    writeFileSync(join(project, 'pipelines', 'pageRevenue.ts'), SECOND_PIPELINE);

    expectOk(await run('npm', ['test'], project), 'npm test (scaffold)');

    const shardflow = join(project, 'node_modules', '.bin', 'shardflow');
    const args = ['run', 'pipelines/pageRevenue.ts', '--input', 'data/clicks.jsonl', '--format', 'json'];
    const memory = await run(shardflow, [...args, '--in-memory'], project);
    expectOk(memory, 'shardflow run --in-memory');
    const stack = await run(shardflow, args, project);
    expectOk(stack, 'shardflow run (local stack)');
    const rows = JSON.parse(stack.stdout) as { page: string; events: number }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => [r.page, r.events])).toEqual(
      (JSON.parse(memory.stdout) as { page: string; events: number }[]).map((r) => [r.page, r.events]),
    );

    const synth = await run(join(project, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet'], project);
    expectOk(synth, 'cdk synth (cdk-nag on)');
    const template = JSON.parse(
      readFileSync(join(project, 'cdk.out', 'Pipelines.template.json'), 'utf8'),
    ) as {
      Resources: Record<
        string,
        { Type: string; Properties?: { Environment?: { Variables?: Record<string, string> } } }
      >;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    // Both pipelines under pipelines/, an operator, a tick and an upgrade check each.
    expect(functions.map((f) => f.Properties?.Environment?.Variables?.SHARDFLOW_PIPELINE).sort()).toEqual([
      'page-clicks',
      'page-clicks',
      'page-clicks',
      'page-revenue',
      'page-revenue',
      'page-revenue',
    ]);
    const bundles = readdirSync(join(project, 'cdk.out'))
      .filter((name) => name.startsWith('asset.'))
      .map((name) => statSync(join(project, 'cdk.out', name, 'index.js')).size);
    // The upgrade checks of both pipelines are one bundle (the definition comes in their properties).
    expect(bundles).toHaveLength(5);
    for (const bytes of bundles) expect(bytes).toBeLessThanOrEqual(300_000);
  }, 900_000);
});
