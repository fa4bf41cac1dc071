/** A contract every aggregate satisfies (d2ts-style: written once, run per aggregate). */
import fc from 'fast-check';
import type { ColumnAggregate } from '../../../../functions/core/aggregates/columnAggregate';

export interface ContractOptions<In, Out> {
  /** Generator of one input. */
  readonly input: fc.Arbitrary<In>;
  /** Asserts that `actual` is acceptable where `expected` is what aggregating everything at once gives. */
  readonly same?: (actual: Out, expected: Out) => void;
  /** Largest acceptable serialised state (JSON characters) for the generated inputs. */
  readonly maxStateChars?: number;
  readonly maxInputs?: number;
}

function fold<T, In, S, Out>(agg: ColumnAggregate<T, In, S, Out>, inputs: readonly In[]): S {
  let s = agg.create();
  for (const x of inputs) s = agg.add(s, x);
  return s;
}

export function aggregateContract<T, In, S, Out>(
  name: string,
  make: () => ColumnAggregate<T, In, S, Out>,
  options: ContractOptions<In, Out>,
): void {
  const same = options.same ?? ((a: Out, e: Out) => expect(a).toEqual(e));
  const inputs = fc.array(options.input, { maxLength: options.maxInputs ?? 200 });

  describe(`${name} (aggregate contract)`, () => {
    it('when two partial states are merged, the result equals aggregating the union', () => {
      fc.assert(
        fc.property(inputs, inputs, (a, b) => {
          const agg = make();
          const merged = agg.merge(fold(agg, a), fold(agg, b));
          same(agg.result(merged), agg.result(fold(agg, [...a, ...b])));
        }),
        { numRuns: 60 },
      );
    }, 30_000);

    it('when merged through serialised state in any split, it equals aggregating everything at once', () => {
      fc.assert(
        fc.property(inputs, fc.array(fc.nat(), { maxLength: 5 }), (all, cuts) => {
          const agg = make();
          const points = [...new Set(cuts.map((c) => (all.length === 0 ? 0 : c % (all.length + 1))))].sort(
            (x, y) => x - y,
          );
          let stored = agg.serialize(agg.create());
          let prev = 0;
          for (const p of [...points, all.length]) {
            const part = fold(agg, all.slice(prev, p));
            stored = agg.serialize(agg.merge(agg.deserialize(JSON.parse(JSON.stringify(stored))), part));
            prev = p;
          }
          same(agg.result(agg.deserialize(stored)), agg.result(fold(agg, all)));
        }),
        { numRuns: 60 },
      );
    }, 30_000);

    it('when state is serialised and deserialised, the result and the stored form round-trip', () => {
      fc.assert(
        fc.property(inputs, (xs) => {
          const agg = make();
          const s = fold(agg, xs);
          const stored = agg.serialize(s);
          const json = JSON.stringify(stored);
          expect(json.length).toBeLessThanOrEqual(options.maxStateChars ?? 20_000);
          const back = agg.deserialize(JSON.parse(json));
          expect(agg.serialize(back)).toEqual(stored);
          same(agg.result(back), agg.result(s));
        }),
        { numRuns: 60 },
      );
    }, 30_000);

    it('when merged in either order, the result is the same', () => {
      fc.assert(
        fc.property(inputs, inputs, (a, b) => {
          const agg = make();
          same(
            agg.result(agg.merge(fold(agg, a), fold(agg, b))),
            agg.result(agg.merge(fold(agg, b), fold(agg, a))),
          );
        }),
        { numRuns: 40 },
      );
    }, 30_000);

    it('when rows are added as a column (addColumn), the state equals adding them one by one', () => {
      fc.assert(
        fc.property(inputs, inputs, fc.nat(3), (before, xs, column) => {
          const agg = make();
          if (agg.addColumn === undefined) return;
          // Rows as combine passes them: each row holds this aggregate's input at `column`.
          const rows = xs.map((x) => {
            const row: unknown[] = [Symbol('other'), Symbol('other'), Symbol('other'), Symbol('other')];
            row[column] = x;
            return row;
          });
          const batched = agg.addColumn(fold(agg, before), rows, column);
          const oneByOne = fold(agg, [...before, ...xs]);
          expect(agg.serialize(batched)).toEqual(agg.serialize(oneByOne));
          same(agg.result(batched), agg.result(oneByOne));
        }),
        { numRuns: 60 },
      );
    }, 30_000);

    it('when stored state is garbage, deserialize throws instead of returning a corrupt state', () => {
      const agg = make();
      expect(() => agg.deserialize({ not: 'state' })).toThrow();
    });
  });
}

/** Exact equality for numbers up to floating-point re-association. */
export function closeNumber(actual: number | null, expected: number | null): void {
  if (expected === null || actual === null) {
    expect(actual).toBe(expected);
    return;
  }
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
}
