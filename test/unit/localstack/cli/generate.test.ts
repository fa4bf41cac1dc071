import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pageActivity } from '../../../../functions/pipelines';
import { generateClickstream, toJsonLines } from '../../../../localstack/generator/clickstream';

const ROOT = join(__dirname, '../../../..');

describe('shardflow generate', () => {
  it('when run with a seed, it writes the generator records for the default pipeline and their known totals', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-generate-'));
    try {
      const out = join(dir, 'clicks.jsonl');
      const totalsFile = join(dir, 'totals.json');
      const result = spawnSync(
        join(ROOT, 'node_modules/.bin/tsx'),
        [
          join(ROOT, 'localstack/cli/main.ts'),
          'generate',
          '--events',
          '120',
          '--seed',
          '9',
          '-o',
          out,
          '--totals',
          totalsFile,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      expect(result.status).toBe(0);
      const spec = pageActivity.spec;
      const expected = generateClickstream({
        events: 120,
        seed: 9,
        windowMs: spec.window!.kind === 'tumbling' ? spec.window!.sizeMs : 0,
        maxOutOfOrdernessMs: spec.time.maxOutOfOrdernessMs,
        allowedLatenessMs: spec.time.allowedLatenessMs,
      });
      expect(readFileSync(out, 'utf8')).toBe(toJsonLines(expected.records));
      expect(JSON.parse(readFileSync(totalsFile, 'utf8'))).toEqual(expected.totals);
      expect(result.stderr.trim()).toBe(
        `${expected.records.length} records (120 events, 1 duplicates, 2 malformed, 1 late)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
