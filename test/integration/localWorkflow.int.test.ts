/**
 * The LocalStack workflow, through the bin as users run it (`npx shardflow`, child processes): `local up`
 * → `deploy --local` → `send` → `status` → `query` (results, clean, rejected) → `local down`, with the
 * hints a user sees on the way.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateClickstream, toJsonLines } from '../../localstack/generator/clickstream';
import { CLI_BIN, NODE, ROOT, runCli, unusedPort, waitForOutput } from '../helpers/cli';

describe('shardflow local up → deploy --local → send → status → query → local down', () => {
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  let serving: ChildProcessWithoutNullStreams | undefined;

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'sf-workflow-'));
    env = { ...process.env, SHARDFLOW_STATE_DIR: stateDir, AWS_ENDPOINT_URL: '' };
  });
  afterAll(async () => {
    if (serving !== undefined && serving.exitCode === null) serving.kill('SIGKILL');
    await runCli(['local', 'down'], env);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('when a user follows the workflow, every step works and every hint leads to the next', async () => {
    const port = await unusedPort();
    const up = await runCli(['local', 'up', '--detach', '--port', String(port)], env);
    expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: '' });
    expect(up.stdout).toContain(`local cloud up`);
    expect(up.stdout).toContain(`http://127.0.0.1:${port}`);

    const empty = await runCli(['local', 'status'], env);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('streams  none: nothing deployed yet (shardflow deploy --local)');
    const noStack = await runCli(['query', 'SELECT 1'], env);
    expect({ code: noStack.code, stderr: noStack.stderr }).toEqual({
      code: 1,
      stderr:
        'shardflow: No results bucket found: deploy the stack with "npx shardflow deploy --local" (or pass --bucket)\n',
    });

    serving = spawn(NODE, [CLI_BIN, 'deploy', '--local'], { cwd: ROOT, env });
    const deployed = await waitForOutput(serving, 'Press Ctrl-C to stop serving', 300_000);
    expect(deployed).toContain(`deployed on http://127.0.0.1:${port}: PageActivity (stream `);
    const outputs = JSON.parse(readFileSync(join(stateDir, 'outputs.json'), 'utf8')) as Record<
      string,
      string
    >;
    const stream = outputs.StreamNamePageActivity as string;
    expect(stream).toMatch(/clickstream/i);

    const listed = await runCli(['local', 'status'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`deployed PageActivity (stream ${stream})`);

    const { records, totals } = generateClickstream({
      events: 200,
      seed: 9,
      late: 0,
      duplicates: 3,
      malformed: 4,
    });
    const input = join(stateDir, 'clicks.jsonl');
    writeFileSync(input, toJsonLines(records));
    const typo = await runCli(['send', input, '--stream', 'clikstream'], env);
    expect({ code: typo.code, stderr: typo.stderr }).toEqual({
      code: 1,
      stderr: `shardflow: Stream clikstream not found at http://127.0.0.1:${port}; streams: ${stream}\n`,
    });
    const sent = await runCli(['send', input, '--stream', stream, '--key', 'userId'], env);
    expect(sent.code).toBe(0);
    expect(sent.stdout).toContain(`sent ${records.length} records to ${stream}\n`);

    // The served functions take the records in; the status counts add up to what was sent.
    const expected = `${records.length} records in: ${totals.injected.malformed} rejected, 0 late, ${totals.injected.duplicates} duplicates dropped`;
    let status = await runCli(['status', '--verbose'], env);
    // --verbose names the cloud and why that one.
    expect(status.stderr).toMatch(
      new RegExp(
        `^cloud http://127\\.0\\.0\\.1:${port} \\(from "shardflow local up" \\(pid \\d+, .*local\\.json\\)\\); results bucket \\S+, state table \\S+\\n$`,
      ),
    );
    for (let i = 0; i < 60 && !status.stdout.includes(expected); i++) {
      await new Promise((r) => setTimeout(r, 2_000));
      status = await runCli(['status'], env);
    }
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(expected);

    const sides = await runCli(
      [
        'query',
        'SELECT (SELECT count(*) FROM rejected) AS rejected, (SELECT count(*) FROM clean) AS clean',
        '-f',
        'json',
      ],
      env,
    );
    expect({ code: sides.code, stderr: sides.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(sides.stdout)).toEqual([
      { rejected: totals.injected.malformed, clean: records.length - totals.injected.malformed },
    ]);
    // The first windows' rows land after their records are counted (the close pass follows the commit, or
    // the tick does): wait for them, so the error below can list the result table.
    let rows = await runCli(['query', 'SELECT count(*) AS n FROM page_activity_minutely'], env);
    for (let i = 0; i < 60 && rows.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 2_000));
      rows = await runCli(['query', 'SELECT count(*) AS n FROM page_activity_minutely'], env);
    }
    expect({ code: rows.code, stderr: rows.stderr }).toEqual({ code: 0, stderr: '' });
    // A table that does not exist: the error lists what there is to query.
    const missing = await runCli(['query', 'SELECT * FROM page_activity'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^shardflow: Catalog Error: Table with name page_activity does not exist! Result tables: page_activity_minutely\. Side-output views \(once they have records\): rejected, rejected_results, late, clean\.\n$/,
    );

    const stopped = new Promise<number | null>((resolve) => serving?.once('exit', (code) => resolve(code)));
    serving.kill('SIGINT');
    expect(await stopped).toBe(0);
    const down = await runCli(['local', 'down'], env);
    expect(down.code).toBe(0);
    const gone = await runCli(['local', 'status'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(
      'shardflow: the local cloud is not running: start it with npx shardflow local up\n',
    );
  }, 600_000);
});
