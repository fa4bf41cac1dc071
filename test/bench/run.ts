/**
 * `npm run bench [-- --only <part>[,<part>]]`: runs the registered bench parts, prints a table and merges
 * the figures into `test/bench/results.json` (other parts' figures are kept). Register a part by adding
 * it to `PARTS`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runEngineBench } from './engine';

type Figures = Readonly<Record<string, number>>;

/** Bench parts by name; each returns flat numeric figures. */
export const PARTS: Readonly<Record<string, () => Promise<Figures>>> = {
  engine: async () => ({ ...(await runEngineBench()) }),
};

const RESULTS_FILE = join(__dirname, 'results.json');

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

function readResults(): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const names = parseOnly(process.argv.slice(2));
  const results = readResults();
  const rows: string[][] = [['part', 'figure', 'value']];
  for (const name of names) {
    const figures = await PARTS[name]!();
    results[name] = figures;
    for (const [k, v] of Object.entries(figures)) rows.push([name, k, v.toLocaleString('en-US')]);
    // Merge after each part so a later failure keeps earlier figures.
    writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    console.log(
      r.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  '),
    );
  console.log(`\nwritten to ${RESULTS_FILE}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
