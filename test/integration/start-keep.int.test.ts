/**
 * `npm start -- --keep`: after the answers the cloud keeps running, `shardflow status` and
 * `shardflow query` in another process find it, and Ctrl-C (SIGINT) stops everything.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateClickstream } from '../../localstack/generator/clickstream';
import { CLI_BIN as MAIN, ROOT, NODE, unusedPort as freePort, waitForOutput } from '../helpers/cli';

describe('npm start --keep', () => {
  let stateDir: string;
  let assembly: string;
  let child: ChildProcessWithoutNullStreams | undefined;

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'sf-keep-'));
    // Inside the project (gitignored .shardflow/): the bundles resolve the AWS SDK from its node_modules.
    mkdirSync(join(ROOT, '.shardflow'), { recursive: true });
    assembly = mkdtempSync(join(ROOT, '.shardflow', 'test-cdk-'));
    const synth = spawnSync('npx', ['--no-install', 'cdk', 'synth', '--quiet', '--output', assembly], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (synth.status !== 0) throw new Error(`cdk synth failed: ${synth.stderr}`);
  }, 180_000);

  afterAll(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(assembly, { recursive: true, force: true });
  });

  it('when --keep is given, status and query reach the running cloud until Ctrl-C stops it', async () => {
    const port = await freePort();
    const env = { ...process.env, SHARDFLOW_STATE_DIR: stateDir, AWS_ENDPOINT_URL: '' };
    const template = join(assembly, 'Shardflow.template.json');
    child = spawn(
      NODE,
      [MAIN, 'start', '--events', '300', '--keep', '--port', String(port), '--template', template],
      { cwd: ROOT, env },
    );
    const printed = await waitForOutput(child, 'Press Ctrl-C to stop.', 180_000);
    expect(printed).toContain(`The local cloud keeps running at http://127.0.0.1:${port}`);
    expect(existsSync(join(stateDir, 'outputs.json'))).toBe(true);
    // The console serves a live view of the kept pipeline while the cloud is kept.
    const consoleUrl = /Console \(a live view of page-activity\): (http:\/\/127\.0\.0\.1:\d+\/)/.exec(
      printed,
    )?.[1];
    expect(consoleUrl).toBeDefined();
    const page = await fetch(consoleUrl as string);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const view = (await (await fetch(`${consoleUrl}api/state`)).json()) as { pipelines: { name: string }[] };
    expect(view.pipelines.map((p) => p.name)).toEqual(['page-activity']);

    const status = spawnSync(NODE, [MAIN, 'status'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect({ code: status.status, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
    expect(status.stdout).toContain('pipeline page-activity (stream clickstream)');
    expect(status.stdout).toContain('closed up to +∞ (end of input); 0 windows open');
    expect(status.stdout).toMatch(/shardId-000000000000 \|\s+0 \|/);
    const { totals } = generateClickstream({ events: 300, seed: 1 });
    expect(status.stdout).toContain(
      `${totals.records} records in: ${totals.injected.malformed} rejected, ${totals.injected.late} late, ${totals.injected.duplicates} duplicates dropped`,
    );

    // `local status` sees a cloud that `start --keep` runs, with what is deployed on it.
    const local = spawnSync(NODE, [MAIN, 'local', 'status'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ code: local.status, stderr: local.stderr }).toEqual({ code: 0, stderr: '' });
    expect(local.stdout).toContain('started by "shardflow start --keep"');
    expect(local.stdout).toMatch(/deployed PageActivity \(stream [^)]+\)/);

    const query = spawnSync(
      NODE,
      [MAIN, 'query', 'SELECT sum(events) AS events FROM page_activity_minutely', '-f', 'json'],
      {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(query.status).toBe(0);
    expect(JSON.parse(query.stdout)).toEqual([{ events: 300 }]);

    const sides = spawnSync(
      NODE,
      [
        MAIN,
        'query',
        'SELECT (SELECT count(*) FROM rejected) AS rejected, (SELECT count(*) FROM late) AS late',
        '-f',
        'json',
      ],
      { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ code: sides.status, stderr: sides.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(sides.stdout)).toEqual([
      { rejected: totals.injected.malformed, late: totals.injected.late },
    ]);

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(join(stateDir, 'outputs.json'))).toBe(false);
    const after = spawnSync(NODE, [MAIN, 'status'], {
      cwd: ROOT,
      env: { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(after.status).toBe(1);
    expect(after.stderr).toMatch(/^shardflow: Local cloud not running at /);
  }, 300_000);
});
