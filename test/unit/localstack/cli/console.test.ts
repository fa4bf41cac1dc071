import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN, NODE, ROOT, closedEndpoint } from '../../../helpers/cli';

describe('shardflow console', () => {
  let stateDir: string;
  let endpoint: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'sf-console-cli-'));
    endpoint = await closedEndpoint();
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    spawnSync(NODE, [CLI_BIN, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, AWS_ENDPOINT_URL: endpoint, SHARDFLOW_STATE_DIR: stateDir },
    });

  it('when asked for help, it says what the page shows, where it listens and how to open it', () => {
    const help = run('console', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: shardflow console \[options\] \[pipelines\.\.\.\]/);
    expect(help.stdout).toContain('127.0.0.1');
    expect(help.stdout).toContain('$ npx shardflow console');
    expect(help.stdout).toContain('--interval <seconds>');
  });

  it('when no local cloud runs, it exits 1 with one line saying how to start one', () => {
    const result = run('console');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(
        `^shardflow: Local cloud not running at ${endpoint.replace(/\./g, '\\.')}: start one .*\\n$`,
      ),
    );
  });

  it('when the port is not a port, it exits 1 naming the value', () => {
    const result = run('console', '--port', 'x');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Port must be an integer between 0 and 65535 (given x).');
  });
});
