/**
 * The committed bench results: `results.json` (every part's figures, merged run by run) and `RESULTS.md`
 * rendered from it, formatted as the repository's prettier config formats it so `npm test`'s format check
 * stays green. Written by `npm run bench` (`run.ts`) and the load test (`test/load/million.ts`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { renderResultsMarkdown, type Figures } from './resultsTable';

export const RESULTS_FILE = join(__dirname, 'results.json');
export const MARKDOWN_FILE = join(__dirname, 'RESULTS.md');

/** The stored figures by part (none before the first run). */
export function readResults(): Record<string, Figures> {
  try {
    return JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, Figures>;
  } catch {
    return {};
  }
}

/** Writes `results` to both files. */
export async function writeResults(results: Readonly<Record<string, Figures>>): Promise<void> {
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  const options = (await resolveConfig(MARKDOWN_FILE)) ?? {};
  writeFileSync(
    MARKDOWN_FILE,
    await format(renderResultsMarkdown(results), { ...options, parser: 'markdown' }),
  );
}
