/**
 * Runs `task` over `items` with at most `limit` in flight. Hand-written (a dozen lines) because the
 * well-known limiter, p-limit, is ESM-only and not a direct dependency; results keep input order.
 * Every task settles before the first error is rethrown, so no write is left running unobserved.
 */
import { InvalidOptionError } from '../errors';
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidOptionError(`Concurrency limit must be a positive integer (given ${limit})`);
  const results = new Array<R>(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  return results;
}
