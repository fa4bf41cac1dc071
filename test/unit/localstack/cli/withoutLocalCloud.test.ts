/**
 * A deploy-only install (`npm install --omit=optional`) has no DuckDB or emulators: the CLI must still load
 * (init, synth, deploy work), and a command that needs them says what to install.
 */
jest.mock(
  '@duckdb/node-api',
  () => {
    const error = new Error("Cannot find module '@duckdb/node-api'") as Error & { code: string };
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  },
  { virtual: true },
);

import { createProgram } from '../../../../localstack/cli/main';
import { DuckDbQueryEngine } from '../../../../localstack/query/DuckDbQueryEngine';

describe('the CLI without the optional local-cloud packages', () => {
  test('when DuckDB is missing, the program still builds with every command', () => {
    const names = createProgram().commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['init', 'synth', 'deploy', 'run', 'query']));
  });

  test('when a query needs DuckDB, it fails with the one-line hint', async () => {
    await expect(DuckDbQueryEngine.open({ dataDir: '/nonexistent' })).rejects.toThrow(
      /^@duckdb\/node-api is not installed: the local cloud and query need shardflow's optional dependencies/,
    );
  });
});
