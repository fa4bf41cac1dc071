import fc from 'fast-check';
import { topK, topKCapacity, type TopKItem } from '../../../../functions/core/aggregates/topK';
import { PipelineDefinitionError } from '../../../../functions/core/errors';
import { aggregateContract } from './aggregateContract';

// With at most `capacity` distinct values the summary is exact, so merge equals aggregate exactly.
aggregateContract('topK', () => topK<string>((s) => s, 3), {
  input: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')),
});

function exactCounts(xs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

describe('topK', () => {
  it('when values are counted, it returns the k most frequent, ties broken by value', () => {
    const agg = topK<string>((s) => s, 2);
    let s = agg.create();
    for (const v of ['b', 'a', 'c', 'a', 'b', 'd']) s = agg.add(s, v);
    expect(agg.result(s)).toEqual([
      { value: 'a', count: 2 },
      { value: 'b', count: 2 },
    ]);
    expect(agg.outputType).toBe('json');
  });

  it('when there are more distinct values than capacity, state stays bounded and counts overestimate by at most N/capacity', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom('hot1', 'hot2', 'hot3') },
            { weight: 2, arbitrary: fc.integer({ min: 0, max: 5_000 }).map(String) },
          ),
          {
            minLength: 200,
            maxLength: 3_000,
          },
        ),
        fc.integer({ min: 1, max: 5 }),
        (xs, cut) => {
          const k = 3;
          const agg = topK<string>((s) => s, k);
          const at = Math.floor(xs.length / (cut + 1));
          let a = agg.create();
          for (const x of xs.slice(0, at)) a = agg.add(a, x);
          let b = agg.create();
          for (const x of xs.slice(at)) b = agg.add(b, x);
          const merged = agg.merge(a, b);
          expect(merged.items.size).toBeLessThanOrEqual(topKCapacity(k));
          const exact = exactCounts(xs);
          const bound = (2 * xs.length) / topKCapacity(k); // two summaries merged: each contributes ≤ N_i/capacity
          for (const item of agg.result(merged) as TopKItem[]) {
            const truth = exact.get(item.value) ?? 0;
            expect(item.count).toBeGreaterThanOrEqual(truth);
            expect(item.count - truth).toBeLessThanOrEqual(bound);
          }
          // Heavy hitters (true count above the bound) are always monitored.
          for (const [value, truth] of exact) if (truth > bound) expect(merged.items.has(value)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('when k is invalid, it throws at definition time naming k', () => {
    expect(() => topK<string>((s) => s, 0)).toThrow(PipelineDefinitionError);
    expect(() => topK<string>((s) => s, 2.5)).toThrow(/2\.5/);
  });

  it('when stored state has more entries than capacity, deserialize refuses it', () => {
    const agg = topK<string>((s) => s, 1);
    const tooMany = Array.from({ length: topKCapacity(1) + 1 }, (_, i) => [`v${i}`, 1, 0]);
    expect(() => agg.deserialize(tooMany)).toThrow(/at most/);
  });
});
