/**
 * Two pipelines linked by a stream, through the deployed stack on the local cloud: `shardflow run` deploys
 * `clean-sessions` and `session-rollup` in one stack, sends a clickstream (duplicates, malformed and late
 * records included) to the first, a stage that only publishes (no window, no table): it publishes each clean
 * event to `sessions` after its commits, producer duplicates under one id; the second
 * rolls them up per country and hour. Its rows equal a DuckDB SQL reference over the raw input file: each
 * valid event once, however often it was sent or published.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateClickstream, toJsonLines } from '../../localstack/generator/clickstream';
import { runCli, unusedPort, whileKept } from '../helpers/cli';
import { clickEventsSql } from '../helpers/clickEventsSql';

const STAGE_1 = 'functions/pipelines/twoStages/cleanSessions.ts';
const STAGE_2 = 'functions/pipelines/twoStages/sessionRollup.ts';

/** The rollup over the raw lines in SQL: valid events (the stage-1 schema), each event id once. */
const REFERENCE_SQL = (file: string): string => `${clickEventsSql(file)}
SELECT country, strftime(date_trunc('hour', ts AT TIME ZONE 'UTC'), '%Y-%m-%d %H:%M:%S') AS window_start,
       count(*)::INTEGER AS events, count(DISTINCT session)::INTEGER AS sessions,
       count_if(action = 'purchase')::INTEGER AS purchases, round(sum(revenue), 6) AS revenue
FROM events GROUP BY ALL ORDER BY window_start, country`;

describe('two stages through the local stack', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-stages-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['through the local stack', []],
    ['in memory (the bounded runner chains the stages)', ['--in-memory']],
  ])(
    'when a clickstream goes through clean-sessions into session-rollup %s, the rollup equals the DuckDB reference over the raw input',
    async (_mode: string, extra: string[]) => {
      // Events from 11:57 to 12:03: two hour windows per country.
      const { records } = generateClickstream({
        events: 300,
        seed: 17,
        baseTime: Date.UTC(2026, 0, 1, 11, 57),
        duplicates: 6,
        malformed: 5,
        late: 2,
      });
      const input = join(dir, `clicks${extra.length}.jsonl`);
      writeFileSync(input, toJsonLines(records));
      const env = { ...process.env, SHARDFLOW_STATE_DIR: dir, AWS_ENDPOINT_URL: '' };
      const run = await runCli(
        ['run', STAGE_1, STAGE_2, '--input', input, '--format', 'json', ...extra],
        env,
      );
      expect({
        code: run.code,
        errors: run.stderr.split('\n').filter((l) => l.startsWith('shardflow:')),
      }).toEqual({
        code: 0,
        errors: [],
      });
      const rows = (JSON.parse(run.stdout) as Record<string, unknown>[]).map((r) => ({
        country: r.country,
        window_start: r.window_start,
        events: Number(r.events),
        sessions: Number(r.sessions),
        purchases: Number(r.purchases),
        revenue: Math.round(Number(r.revenue) * 1e6) / 1e6,
      }));

      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      let validLines: number;
      try {
        validLines = Number(
          (
            await connection.runAndReadAll(
              `${clickEventsSql(input)} SELECT count(*)::INTEGER AS n FROM valid`,
            )
          ).getRowObjectsJson()[0]!.n,
        );
        const expected = (await connection.runAndReadAll(REFERENCE_SQL(input))).getRowObjectsJson();
        expect(expected.length).toBeGreaterThan(10);
        expect(new Set(expected.map((r) => r.window_start)).size).toBe(2);
        expect(rows).toEqual(expected.map((r) => ({ ...r, revenue: Number(r.revenue) })));
      } finally {
        connection.closeSync();
        db.closeSync();
      }
      // Stage 1 published every valid line (producer duplicates and late events too: it has no windows) and
      // rejected the rest; it has no rows.
      const lines = records.length;
      const stage1 = run.stderr.split('\n').find((l) => l.startsWith(`${lines} lines:`));
      expect(stage1).toBe(
        `${lines} lines: 0 blank, ${lines} records in → ${validLines} published to sessions; ${lines - validLines} rejected`,
      );
      // Stage 2 read every published copy; copies of the same event (producer duplicates, here) were dropped.
      const stage2 = run.stderr.split('\n').find((l) => l.startsWith('stage session-rollup:'));
      expect(stage2).toBe(
        `stage session-rollup: ${validLines} records in → ${rows.length} rows; 0 rejected, 0 late, 6 duplicates dropped`,
      );
    },
    240_000,
  );

  it('when the stages are run with --keep, the status command it prints names both modules (not their summary lines)', async () => {
    const { records } = generateClickstream({ events: 20, seed: 3, baseTime: Date.UTC(2026, 0, 1, 12) });
    const input = join(dir, 'kept.jsonl');
    writeFileSync(input, toJsonLines(records));
    const env = { ...process.env, SHARDFLOW_STATE_DIR: dir, AWS_ENDPOINT_URL: '' };
    const port = await unusedPort();
    await whileKept(
      ['run', STAGE_1, STAGE_2, '--input', input, '--keep', '--port', String(port)],
      env,
      (printed) => {
        const hints = printed.split('\n').filter((l) => l.includes('npx shardflow status'));
        expect(hints).toHaveLength(1);
        expect(hints[0]).toMatch(new RegExp(`npx shardflow status ${STAGE_1} ${STAGE_2}$`));
        return Promise.resolve();
      },
    );
  }, 240_000);
});
