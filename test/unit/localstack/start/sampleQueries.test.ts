import { checkAnswers, compareTotals, sampleQueries } from '../../../../localstack/start/sampleQueries';
import type { ClickstreamTotals } from '../../../../localstack/generator/clickstream';
import type { QueryResult } from '../../../../localstack/query/types';

const result = (rows: (string | number)[][]): QueryResult => ({
  columns: ['group', 'events', 'purchases', 'revenue'].map((name) => ({ name, type: '' })),
  rows,
});

describe('sample query checks', () => {
  const expected = {
    '/': { count: 10, purchases: 2, revenue: 30.5 },
    '/cart': { count: 3, purchases: 0, revenue: 0 },
  };

  it('when every group matches (revenue to the cent), it reports no mismatch', () => {
    expect(
      compareTotals(
        'page',
        result([
          ['/', 10, 2, 30.500000001],
          ['/cart', 3, 0, 0],
        ]),
        expected,
      ),
    ).toEqual([]);
  });

  it('when a group differs, is missing or is unexpected, it reports each one', () => {
    expect(
      compareTotals(
        'page',
        result([
          ['/', 9, 2, 30.5],
          ['/x', 1, 0, 0],
        ]),
        expected,
      ),
    ).toEqual([
      'page /: got 9 events/2 purchases/30.5 revenue, expected 10/2/30.5',
      'page /x: not in the input',
      'page /cart: missing from the results',
    ]);
  });

  it('when rejected or late counts differ from the injected ones, it reports them', () => {
    const totals = {
      byPage: expected,
      byWindow: {},
      injected: { malformed: 4, late: 2, duplicates: 1, outOfOrder: 0 },
    } as unknown as ClickstreamTotals;
    const perPage = result([
      ['/', 10, 2, 30.5],
      ['/cart', 3, 0, 0],
    ]);
    expect(checkAnswers(totals, perPage, result([]), { rejected: 4, late: 2 })).toEqual([]);
    expect(checkAnswers(totals, perPage, result([]), { rejected: 5, late: 0 })).toEqual([
      'rejected: 5 records, expected the 4 malformed ones',
      'late: 0 records, expected 2',
    ]);
  });

  it('when the sample queries are built, each reads the given table', () => {
    const queries = sampleQueries('page_activity_minutely');
    expect(queries).toHaveLength(3);
    for (const q of queries) expect(q.sql).toContain('FROM page_activity_minutely');
  });
});
