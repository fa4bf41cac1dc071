import {
  MissingLocalDependencyError,
  requireLocalDependency,
  resolveLocalDependency,
} from '../../../../localstack/emulators/optionalDependency';

const notFound = (specifier: string): never => {
  const error = new Error(`Cannot find module '${specifier}'`) as Error & { code: string };
  error.code = 'MODULE_NOT_FOUND';
  throw error;
};

describe('optional local-cloud dependencies', () => {
  test('when a package is not installed, the error names it and how to install it', () => {
    expect(() => resolveLocalDependency('kinesalite/cli.js', notFound)).toThrow(MissingLocalDependencyError);
    expect(() => resolveLocalDependency('kinesalite/cli.js', notFound)).toThrow(
      "kinesalite is not installed: the local cloud and query need shardflow's optional dependencies (install without --omit=optional, e.g. npm install --include=optional)",
    );
    expect(() => requireLocalDependency('@duckdb/node-api', notFound)).toThrow(
      /^@duckdb\/node-api is not installed/,
    );
  });

  test('when loading fails for another reason, that error comes through unchanged', () => {
    const broken = new SyntaxError('Unexpected token');
    expect(() =>
      requireLocalDependency('s3rver', () => {
        throw broken;
      }),
    ).toThrow(broken);
  });

  test('when the package is installed, it resolves and loads as require does', () => {
    expect(resolveLocalDependency('kinesalite/cli.js')).toBe(require.resolve('kinesalite/cli.js'));
    expect(
      requireLocalDependency<{ DuckDBInstance: unknown }>('@duckdb/node-api').DuckDBInstance,
    ).toBeDefined();
  });
});
