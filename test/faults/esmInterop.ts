/**
 * hyparquet-writer is ESM-only and Jest's CommonJS runtime (Node 20) cannot require it, while Lambda and
 * tsx load it fine. Tests that run the real Parquet encoder in-process therefore map the module to a
 * CommonJS bundle built once with esbuild (already a dependency):
 *
 *   jest.mock('hyparquet-writer', () => require('<rel>/test/faults/esmInterop').hyparquetWriterCjs());
 *
 * (A `transformIgnorePatterns` exception in jest.config.js would do the same for every project.)
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';

export function hyparquetWriterCjs(): unknown {
  const entry = require.resolve('hyparquet-writer');
  const version = (
    JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const out = join(tmpdir(), `shardflow-hyparquet-writer-${version}.js`);
  if (!existsSync(out)) {
    const partial = `${out}.${process.pid}.tmp.js`;
    buildSync({
      entryPoints: [entry],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      outfile: partial,
      logLevel: 'silent',
    });
    renameSync(partial, out);
  }
  // The bundle path is only known at run time, so it cannot be a static import.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(out) as unknown;
}
