/**
 * `shardflow run` over a file gives the same rows through the deployed stack on the local cloud as
 * through the in-memory bounded runner (`--in-memory`), for the same pipeline and input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateClickstream, toJsonLines } from '../../localstack/generator/clickstream';
import { runCli as cli, unusedPort, whileKept } from '../helpers/cli';

/** Rows equal column by column; floating-point aggregates (avg, percentile) to 1e-9 relative. */
function expectSameRows(actual: Record<string, unknown>[], expected: Record<string, unknown>[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((row, i) => {
    const other = actual[i] ?? {};
    expect(Object.keys(other)).toEqual(Object.keys(row));
    for (const [column, value] of Object.entries(row)) {
      if (typeof value === 'number' && !Number.isInteger(value)) {
        expect(other[column]).toBeCloseTo(value, 6);
      } else {
        expect({ row: i, column, value: other[column] }).toEqual({ row: i, column, value });
      }
    }
  });
}

describe('shardflow run', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-run-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when given a pipeline module registered nowhere, it deploys that pipeline alone and prints the rows --in-memory prints', async () => {
    const { records } = generateClickstream({ events: 200, seed: 9, late: 0, duplicates: 3, malformed: 2 });
    const input = join(dir, 'devices.jsonl');
    writeFileSync(input, toJsonLines(records));
    const env = { ...process.env, SHARDFLOW_STATE_DIR: dir, AWS_ENDPOINT_URL: '' };
    const module = 'test/fixtures/pipelines/devicePurchases.ts';
    const memory = await cli(['run', module, '--input', input, '--in-memory', '--format', 'json'], env);
    expect(memory.code).toBe(0);
    const deployed = await cli(['run', module, '--input', input, '--format', 'json'], env);
    expect({
      code: deployed.code,
      error: deployed.stderr.split('\n').filter((l) => l.startsWith('shardflow:')),
    }).toEqual({ code: 0, error: [] });
    const memoryRows = JSON.parse(memory.stdout) as Record<string, unknown>[];
    expect(memoryRows.length).toBeGreaterThan(0);
    expect(Object.keys(memoryRows[0] ?? {})).toEqual(
      expect.arrayContaining(['device', 'clicks', 'purchases', 'revenue', 'max_revenue']),
    );
    expectSameRows(JSON.parse(deployed.stdout) as Record<string, unknown>[], memoryRows);
    const summary = (stderr: string) => stderr.split('\n').find((l) => l.includes(' records in → '));
    expect(summary(deployed.stderr)).toBe(summary(memory.stderr));
    expect(summary(memory.stderr)).toContain(`${records.length} records in → ${memoryRows.length} rows`);
    expect(summary(memory.stderr)).toContain('3 duplicates dropped');

    // Kept up, the module's pipeline answers status and query like a shipped one.
    await whileKept(
      ['run', module, '--input', input, '--keep', '--port', String(await unusedPort())],
      env,
      async () => {
        const status = await cli(['status', module], env);
        expect({ code: status.code, stderr: status.stderr }).toEqual({ code: 0, stderr: '' });
        expect(status.stdout).toContain('pipeline device-purchases (stream ');
        expect(status.stdout).toContain(`${records.length} records in`);
        const query = await cli(
          ['query', 'SELECT sum(clicks) AS clicks FROM device_purchases_5m', '-f', 'json'],
          env,
        );
        expect({ code: query.code, stderr: query.stderr }).toEqual({ code: 0, stderr: '' });
        expect(JSON.parse(query.stdout)).toEqual([
          { clicks: memoryRows.reduce((total, row) => total + Number(row.clicks), 0) },
        ]);
      },
    );
  }, 420_000);

  it('when every record is rejected, it prints an empty result and the summary through the stack as --in-memory does, and query answers 0 rows', async () => {
    const input = join(dir, 'rejected.jsonl');
    // No line is JSON: no window gets a record, so no result object is ever written.
    writeFileSync(input, '{not json\n{"also": broken\nnope\n');
    const env = { ...process.env, SHARDFLOW_STATE_DIR: join(dir, 'rejected-state'), AWS_ENDPOINT_URL: '' };
    const summary = '3 lines: 0 blank, 3 records in → 0 rows; 3 rejected';

    const memory = await cli(
      ['run', 'page-activity', '--input', input, '--in-memory', '--format', 'json'],
      env,
    );
    expect({ code: memory.code, stdout: memory.stdout.trim() }).toEqual({ code: 0, stdout: '[]' });
    expect(memory.stderr).toContain(summary);

    await whileKept(
      [
        'run',
        'page-activity',
        '--input',
        input,
        '--format',
        'json',
        '--keep',
        '--port',
        String(await unusedPort()),
      ],
      env,
      async (printed, stdout) => {
        expect({
          stdout: stdout.trim(),
          error: printed.split('\n').filter((l) => l.startsWith('shardflow:')),
        }).toEqual({
          stdout: '[]',
          error: [],
        });
        expect(printed).toContain(summary);
        // Before any window closed, the table answers with no rows (as Athena does), under either name.
        for (const table of ['page_activity_minutely', '"shardflow"."page_activity_minutely"']) {
          const query = await cli(
            ['query', `SELECT count(*) AS n, min(hour) AS hour FROM ${table}`, '-f', 'json'],
            env,
          );
          expect({ code: query.code, stderr: query.stderr, rows: query.stdout.trim() }).toEqual({
            code: 0,
            stderr: '',
            rows: JSON.stringify([{ n: 0, hour: null }], null, 2),
          });
        }
      },
    );
  }, 600_000);

  it('when run through the deployed stack, it prints the same rows as --in-memory', async () => {
    // No late events: whether a record is late depends on batch timing, which differs between the two
    // runtimes by design. Duplicates, malformed and out-of-order records are all in.
    const { records, totals } = generateClickstream({
      events: 300,
      seed: 5,
      late: 0,
      duplicates: 4,
      malformed: 5,
    });
    const input = join(dir, 'clicks.jsonl');
    // Blank lines are skipped and counted apart, so the summary adds up to the file's lines.
    const lines = toJsonLines(records).split('\n');
    for (const at of [0, 40, 41, 150, lines.length - 1]) lines.splice(at, 0, at % 2 === 0 ? '' : '   ');
    writeFileSync(input, lines.join('\n'));
    const env = { ...process.env, SHARDFLOW_STATE_DIR: dir, AWS_ENDPOINT_URL: '' };

    const memory = await cli(
      ['run', 'page-activity', '--input', input, '--in-memory', '--format', 'json'],
      env,
    );
    expect(memory.code).toBe(0);
    const deployed = await cli(['run', 'page-activity', '--input', input, '--format', 'json'], env);
    expect({
      code: deployed.code,
      error: deployed.stderr.split('\n').filter((l) => l.startsWith('shardflow:')),
    }).toEqual({ code: 0, error: [] });

    const memoryRows = JSON.parse(memory.stdout) as Record<string, unknown>[];
    const deployedRows = JSON.parse(deployed.stdout) as Record<string, unknown>[];
    expect(memoryRows.reduce((sum, r) => sum + Number(r.events), 0)).toBe(totals.overall.count);
    expectSameRows(deployedRows, memoryRows);
    const summary = `${records.length + 5} lines: 5 blank, ${records.length} records in → ${memoryRows.length} rows; 5 rejected, 0 late, 4 duplicates dropped`;
    expect(memory.stderr).toContain(summary);
    expect(deployed.stderr).toContain(summary);
    // The same live line as npm start: what was sent, processed, rejected, late, windows and the shards' backlog.
    expect(deployed.stderr).toMatch(
      new RegExp(
        `sent ${records.length}/${records.length} \\| processed ${records.length} \\| rejected 5 \\| late 0 \\| windows \\d+ \\| shard0 0 pending`,
      ),
    );

    // --keep: the same run leaves its cloud up for query (the app unchanged: synth skipped); Ctrl-C stops it.
    await whileKept(
      ['run', 'page-activity', '--input', input, '--keep', '--port', String(await unusedPort())],
      env,
      async (printed) => {
        expect(printed).toContain(
          'synth skipped: the app and its inputs have not changed since the last one',
        );
        const query = await cli(
          ['query', 'SELECT sum(events) AS events FROM page_activity_minutely', '-f', 'json'],
          env,
        );
        expect({ code: query.code, stderr: query.stderr }).toEqual({ code: 0, stderr: '' });
        expect(JSON.parse(query.stdout)).toEqual([{ events: totals.overall.count }]);
      },
    );
  }, 600_000);
});
