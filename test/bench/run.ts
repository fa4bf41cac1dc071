/**
 * `npm run bench [-- --only <part>[,<part>]]`: runs the registered bench parts, prints a table, merges the
 * figures into `test/bench/results.json` (other parts' figures are kept) and rewrites `RESULTS.md` from
 * it. Register a part by adding it to `PARTS` (and its goals to `GOALS` in `resultsTable.ts`).
 */
import { runBundleBench } from './bundle';
import { runE2eBench } from './e2e';
import { runEngineBench } from './engine';
import { runQueryBench } from './query';
import { MARKDOWN_FILE, readResults, RESULTS_FILE, writeResults } from './resultsFiles';
import { flattenFigures, type Figures } from './resultsTable';
import { runReplayBench } from './replay';
import { runStateBench } from './state';

/** Bench parts by name; each returns numeric figures (one level of nesting allowed, e.g. cost per approach). */
export const PARTS: Readonly<Record<string, () => Promise<Figures>>> = {
  engine: async () => ({ ...(await runEngineBench()) }),
  state: async () => {
    const figures = await runStateBench();
    return { ...figures, matrix: figures.matrix.map((cell) => ({ ...cell })) };
  },
  e2e: async () => ({ ...(await runE2eBench()) }),
  bundle: async () => ({ ...(await runBundleBench()) }),
  replay: async () => ({ ...(await runReplayBench()) }),
  query: async () => ({ ...(await runQueryBench()) }),
};

function parseOnly(argv: readonly string[]): string[] {
  const i = argv.indexOf('--only');
  if (i === -1) return Object.keys(PARTS);
  const names = (argv[i + 1] ?? '').split(',').filter((s) => s.length > 0);
  const unknown = names.filter((n) => !(n in PARTS));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(
      `--only expects one or more of ${Object.keys(PARTS).join(', ')} (given ${JSON.stringify(argv[i + 1] ?? '')})`,
    );
  }
  return names;
}

async function main(): Promise<void> {
  const names = parseOnly(process.argv.slice(2));
  const results = readResults();
  const rows: string[][] = [['part', 'figure', 'value']];
  const failed: string[] = [];
  for (const name of names) {
    let figures: Figures;
    try {
      figures = await PARTS[name]!();
    } catch (error) {
      // One broken part must not cost the figures of the others; the run still exits non-zero.
      console.error(`bench part ${name} failed:`, error);
      failed.push(name);
      continue;
    }
    results[name] = figures;
    for (const [k, v] of flattenFigures(figures)) rows.push([name, k, v.toLocaleString('en-US')]);
    // Merge after each part so a later failure keeps earlier figures.
    await writeResults(results);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    console.log(
      r.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  '),
    );
  console.log(`\nwritten to ${RESULTS_FILE} and ${MARKDOWN_FILE}`);
  if (failed.length > 0) throw new Error(`bench parts failed: ${failed.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
