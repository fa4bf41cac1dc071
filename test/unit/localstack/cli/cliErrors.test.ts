import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN as MAIN, ROOT, NODE, closedEndpoint } from '../../../helpers/cli';

describe('shardflow CLI errors', () => {
  let stateDir: string;
  let endpoint: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'sf-cli-'));
    endpoint = await closedEndpoint();
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const result = spawnSync(NODE, [MAIN, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: endpoint,
        SHARDFLOW_STATE_DIR: stateDir,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
    return { status: result.status, lines, stdout: result.stdout };
  };

  const expectOneLine = (r: ReturnType<typeof run>, expected: string | RegExp): void => {
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(expected);
    expect(r.stdout).toBe('');
  };

  it('when the input file is missing, send exits 1 with one line naming the file', () => {
    expectOneLine(
      run('send', join(stateDir, 'missing.jsonl'), '--stream', 's'),
      `shardflow: Input file not found: ${join(stateDir, 'missing.jsonl')}`,
    );
  });

  it('when the input format is unknown, send exits 1 naming the accepted formats', () => {
    const file = join(stateDir, 'data.xml');
    writeFileSync(file, '<x/>');
    expectOneLine(
      run('send', file, '--stream', 's'),
      /^shardflow: Unknown input format for .*data\.xml: use \.jsonl/,
    );
  });

  it('when the SQL is malformed, query exits 1 with the parser message and no stack trace', () => {
    expectOneLine(
      run('query', 'SELEC page FROM page_activity_minutely'),
      'shardflow: Parser Error: syntax error at or near "SELEC"',
    );
  });

  it('when the local cloud is not running, query exits 1 saying how to start it', () => {
    expectOneLine(
      run('query', 'SELECT 1'),
      `shardflow: Local cloud not running at ${endpoint}: start one with the stack deployed: "npx shardflow local up --detach", then "npx shardflow deploy --local" (or set AWS_ENDPOINT_URL)`,
    );
  });

  it('when --key names a field no record has (a typo), send and run exit 1 saying so before sending anything', () => {
    const file = join(stateDir, 'keyed.jsonl');
    writeFileSync(file, '{"userId":"u1","n":1}\n{"userId":"u2","n":2}\nnot json\n');
    const message = `shardflow: No record of ${file} has a field userid (--key) holding a string or number: check the name, or leave --key out for one key per record`;
    expectOneLine(run('send', file, '--stream', 's', '--key', 'userid'), message);
    expectOneLine(run('run', 'page-activity', '--input', file, '--key', 'userid', '--in-memory'), message);
    // A field some records have is used; those without it get a key of their own (here: the cloud is next).
    expectOneLine(
      run('send', file, '--stream', 's', '--key', 'userId'),
      /^shardflow: Local cloud not running at /,
    );
  });

  it('when the local cloud is not running, send exits 1 saying how to start it', () => {
    const file = join(stateDir, 'ok.jsonl');
    writeFileSync(file, '{"a":1}\n');
    expectOneLine(run('send', file, '--stream', 's'), /^shardflow: Local cloud not running at /);
  });

  it('when the pipeline is unknown, run exits 1 naming the shipped pipelines', () => {
    expectOneLine(
      run('run', 'no-such-pipeline', '--input', join(stateDir, 'x.jsonl'), '--in-memory'),
      'shardflow: Unknown pipeline "no-such-pipeline": not a shipped pipeline (page-activity) nor a .ts/.js pipeline file',
    );
  });

  it('when a pipeline module does not parse, run exits 1 with one line saying where and what', () => {
    const module = join(stateDir, 'broken.ts');
    writeFileSync(
      module,
      'import { pipeline } from "shardflow";\nexport default pipeline("x") this is not TypeScript;\n',
    );
    expectOneLine(
      run('run', module, '--input', join(stateDir, 'x.jsonl'), '--in-memory'),
      `shardflow: Cannot load pipeline module ${module}: Transform failed with 1 error: ${module}:2:29: ERROR: Expected ";" but found "this"`,
    );
  });

  it('when the run input is missing, run exits 1 naming the file', () => {
    expectOneLine(
      run('run', 'page-activity', '--input', join(stateDir, 'gone.csv'), '--in-memory'),
      `shardflow: Input file not found: ${join(stateDir, 'gone.csv')}`,
    );
  });

  it('when the local cloud is not running, status exits 1 saying how to start it', () => {
    expectOneLine(run('status'), /^shardflow: Local cloud not running at /);
  });

  it('when no local cloud was started, local status exits 1 saying how to start one', () => {
    expectOneLine(
      run('local', 'status'),
      'shardflow: the local cloud is not running: start it with npx shardflow local up',
    );
  });

  it('when the deployment is of your own app, status, console and replay-failures without a pipeline say to name its module', () => {
    const project = join(stateDir, 'own-app');
    mkdirSync(project, { recursive: true });
    writeFileSync(
      join(project, 'outputs.json'),
      JSON.stringify({ StreamNamePageClicks: 'page-clicks', ResultsBucketName: 'b', StateTableName: 't' }),
    );
    const inProject = (...args: string[]) => {
      const result = spawnSync(NODE, [MAIN, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, AWS_ENDPOINT_URL: endpoint, SHARDFLOW_STATE_DIR: project },
      });
      return {
        status: result.status,
        lines: result.stderr.split('\n').filter((l) => l.trim() !== ''),
        stdout: result.stdout,
      };
    };
    for (const [args, usage] of [
      [['status'], 'npx shardflow status pipelines/<module>.ts'],
      [['console', '--port', '0'], 'npx shardflow console pipelines/<module>.ts'],
      [['replay-failures', '--dry-run'], 'npx shardflow replay-failures --pipeline pipelines/<module>.ts'],
    ] as const) {
      expectOneLine(
        inProject(...args),
        `shardflow: The deployment has PageClicks (stream page-clicks), not the shipped page-activity: name the pipeline module, e.g. "${usage}"`,
      );
    }
  });

  it('when the local cloud is not running, deploy --local and a run reading s3:// say how to start it', () => {
    expectOneLine(run('deploy', '--local'), /^shardflow: Local cloud not running at /);
    expectOneLine(
      run('run', 'page-activity', '--input', 's3://bucket/prefix/', '--in-memory'),
      /^shardflow: Local cloud not running at /,
    );
  });

  it.each([
    ['empty', '', /is not valid JSON \(Unexpected end of JSON input\)/],
    ['truncated', '{ "name": "x", ', /is not valid JSON/],
    ['null', 'null', /is not a package\.json init can extend \(its top level: /],
    ['a script that is not a string', '{"scripts":{"lint":1}}', /\("scripts\.lint": /],
  ])(
    "when the directory's package.json is %s, init exits 1 naming the file and what is wrong",
    (name, text, expected) => {
      const project = join(stateDir, `init-${name.replace(/\W+/g, '-')}`);
      mkdirSync(project, { recursive: true });
      const manifest = join(project, 'package.json');
      writeFileSync(manifest, text);
      const r = run('init', project);
      expectOneLine(r, expected);
      expect(r.lines[0]).toMatch(
        new RegExp(
          `^shardflow: ${manifest.replace(/[.\\/]/g, '\\$&')} .*: fix or remove it, then run init again$`,
        ),
      );
      expect(readFileSync(manifest, 'utf8')).toBe(text);
    },
  );

  it('when a timer option is beyond what a timer can wait, the command exits 1 naming the bound', () => {
    const file = join(stateDir, 'rate.jsonl');
    writeFileSync(file, '{"a":1}\n');
    for (const [args, message] of [
      [['console', '--interval', '2592000'], '--interval must be at most 86400 (given 2592000).'],
      [['send', file, '--stream', 's', '--rate', '1e-7'], '--rate must be at least 0.001 (given 1e-7).'],
      [['start', '--rate', '0.0001'], '--rate must be at least 0.001 (given 0.0001).'],
      [['start', '--port', '70000'], 'Port must be an integer between 0 and 65535 (given 70000).'],
    ] as const) {
      const r = run(...args);
      expect({ args, status: r.status, stdout: r.stdout }).toEqual({ args, status: 1, stdout: '' });
      expect(r.lines).toEqual([
        expect.stringMatching(/^error: option '.*' argument '.*' is invalid\. /),
        '(run with --help for usage)',
      ]);
      expect(r.lines[0]!.endsWith(message)).toBe(true);
    }
  });

  it('when cdk synth fails, synth passes its options through and exits 1 with the CDK exit code', () => {
    const r = run('synth', '--app', 'false', '--output', join(stateDir, 'cdk.out'));
    expect(r.status).toBe(1);
    expect(r.lines[r.lines.length - 1]).toBe('shardflow: cdk synth exited with code 1');
    expect(r.lines.join('\n')).toContain('false: Subprocess exited with error 1');
  });

  it('when a table-source run is given a bad change file or --in-memory, or start is asked to drive it, it exits 1 with one line before deploying anything', () => {
    const module = 'functions/pipelines/orders/orderRevenue.ts';
    const file = join(stateDir, 'orders.jsonl');
    writeFileSync(file, '{"put": {"orderId": "o1", "amount": 1}}\n\n{"upsert": {"orderId": "o1"}}\n');
    expectOneLine(
      run('run', module, '--input', file),
      `shardflow: ${file} line 3: must be {"put": {item}} or {"delete": {key}} (given ["upsert"]); a table source reads changes, one {"put": {item}} or {"delete": {key}} per line`,
    );
    const csv = join(stateDir, 'orders.csv');
    writeFileSync(csv, 'orderId\no1\n');
    expectOneLine(
      run('run', module, '--input', csv),
      `shardflow: A table source reads a local change file in JSON Lines (.jsonl), one {"put": {item}} or {"delete": {key}} per line (given ${csv})`,
    );
    expectOneLine(
      run('run', module, '--input', file, '--in-memory'),
      'shardflow: order-revenue reads table orders: its change file runs through the stack only (drop --in-memory)',
    );
    expectOneLine(
      run('start', module),
      `shardflow: start sends the generated clickstream to a stream; order-revenue reads table orders: use shardflow run ${module} --input <change file>`,
    );
  });

  it('when an option value is invalid, the command exits 1 without running', () => {
    const r = run('query', 'SELECT 1', '--format', 'xml');
    expect(r.status).toBe(1);
    expect(r.lines[0]).toBe(
      "error: option '-f, --format <format>' argument 'xml' is invalid. Allowed choices are table, csv, json.",
    );
    expect(r.lines.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('when asked for help or run bare, it prints usage on stdout and exits 0', () => {
    for (const args of [[], ['--help'], ['help']]) {
      const r = run(...args);
      expect({ args, status: r.status, stderr: r.lines }).toEqual({ args, status: 0, stderr: [] });
      expect(r.stdout).toMatch(/^Usage: shardflow \[options\] \[command\]/);
      expect(r.stdout).toContain('replay-failures');
    }
  });

  it('when asked for the version, it prints the package version and exits 0', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });
});
