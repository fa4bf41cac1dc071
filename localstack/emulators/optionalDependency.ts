/**
 * The local cloud's packages (emulators, DuckDB) are shardflow's `optionalDependencies`: a project that only
 * deploys to AWS may install without them (`npm install --omit=optional`). Everything that needs one asks
 * for it here, so a missing one is a one-line error naming the next step, not a stack trace at start-up.
 */
import { LocalCloudError } from './errors';

/** A package of the local cloud is not installed. */
export class MissingLocalDependencyError extends LocalCloudError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MissingLocalDependencyError';
  }
}

function missing(specifier: string, error: unknown): MissingLocalDependencyError {
  const pkg = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0];
  return new MissingLocalDependencyError(
    `${pkg} is not installed: the local cloud and query need shardflow's optional dependencies (install without --omit=optional, e.g. npm install --include=optional)`,
    { cause: error },
  );
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND';
}

/** `require.resolve(specifier)`, or a `MissingLocalDependencyError` when its package is not installed. */
export function resolveLocalDependency(
  specifier: string,
  resolve: (s: string) => string = require.resolve,
): string {
  try {
    return resolve(specifier);
  } catch (error) {
    if (isNotFound(error)) throw missing(specifier, error);
    throw error;
  }
}

/** `require(specifier)` on first use, or a `MissingLocalDependencyError` when its package is not installed. */
export function requireLocalDependency<T>(specifier: string, load: (s: string) => unknown = require): T {
  try {
    return load(specifier) as T;
  } catch (error) {
    if (isNotFound(error)) throw missing(specifier, error);
    throw error;
  }
}
