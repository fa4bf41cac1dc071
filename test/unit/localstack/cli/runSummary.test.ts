/**
 * `shardflow run` says, for a stage that publishes its result rows (`.sink({ toStream })`), how many were over
 * the Kinesis record limit and so were not published, and where their dead letters are.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deadLetterLine } from '../../../../localstack/cli/commands/run';
import { createProgram } from '../../../../localstack/cli/main';
import pageHours from '../../../../functions/pipelines/rollups/pageHours';
import pageMinutes from '../../../../functions/pipelines/rollups/pageMinutes';
import { oversizeClicks } from '../../../helpers/fixtures/oversizeMinutes';

const FIXTURE = join(__dirname, '../../../helpers/fixtures/oversizeMinutes.ts');

describe('the summary line of result rows dead-lettered for their size', () => {
  it('when a stage publishes its results, it counts the rows over 1 MiB and names where they went; a stage that does not has no line', () => {
    expect(deadLetterLine(pageMinutes, 2, 'rejected-results/page_minutes/')).toBe(
      'page-minutes: 2 result rows over 1 MiB not published to page-minutes → rejected-results/page_minutes/',
    );
    expect(deadLetterLine(pageMinutes, 1, 'rejected-results/page_minutes/')).toBe(
      'page-minutes: 1 result row over 1 MiB not published to page-minutes → rejected-results/page_minutes/',
    );
    expect(deadLetterLine(pageMinutes, 0, 'x')).toBe(
      'page-minutes: 0 result rows over 1 MiB not published to page-minutes → x',
    );
    expect(deadLetterLine(pageHours, 3, 'x')).toBeUndefined();
  });

  it('when `run --in-memory` of a pipeline has an oversize result row and a malformed record, it prints the row, rejects the record only, and says where the row went', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-run-letters-'));
    const input = join(dir, 'clicks.jsonl');
    const t0 = Date.UTC(2026, 0, 1, 12);
    writeFileSync(
      input,
      `${[...oversizeClicks(t0).map((c) => JSON.stringify(c)), '{not json'].join('\n')}\n`,
    );
    const out: string[] = [];
    const err: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
    try {
      await createProgram()
        .exitOverride()
        .parseAsync(['run', FIXTURE, '--input', input, '--in-memory', '--format', 'json'], { from: 'user' });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    const rows = JSON.parse(out.join('')) as { page: string; clicks: number }[];
    expect(rows.map((r) => [r.page, Number(r.clicks)])).toEqual([
      ['/big', 1000],
      ['/small', 6],
    ]);
    expect(err.join('').split('\n')).toEqual([
      '1007 lines: 0 blank, 1007 records in → 2 rows; 1 rejected, 0 late, 0 duplicates dropped',
      'tag-minutes: 1 result row over 1 MiB not published to tag-minutes → not kept in memory (rejected-results/tag_minutes/ through the stack)',
      '',
    ]);
  });
});
