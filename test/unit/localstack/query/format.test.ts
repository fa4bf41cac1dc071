import { formatResult } from '../../../../localstack/query/format';
import type { QueryResult } from '../../../../localstack/query/types';

const result: QueryResult = {
  columns: [
    { name: 'page', type: 'VARCHAR' },
    { name: 'events', type: 'BIGINT' },
    { name: 'note', type: 'VARCHAR' },
  ],
  rows: [
    ['/', 1234, null],
    ['/products/12', 7, 'has "quotes", commas\nand a newline'],
  ],
};

describe('formatResult', () => {
  it('when the format is table, it aligns columns, right-aligns numbers and counts the rows', () => {
    expect(formatResult(result, 'table')).toBe(
      [
        'page         | events | note',
        '-------------+--------+-----------------------------------',
        '/            |   1234 | NULL',
        '/products/12 |      7 | has "quotes", commas and a newline',
        '(2 rows)',
      ].join('\n'),
    );
  });

  it('when the format is csv, it quotes fields per RFC 4180 and writes NULL as empty', () => {
    expect(formatResult(result, 'csv')).toBe(
      ['page,events,note', '/,1234,', '/products/12,7,"has ""quotes"", commas\nand a newline"'].join('\n'),
    );
  });

  it('when the format is json, it writes an array of row objects with typed values', () => {
    expect(JSON.parse(formatResult(result, 'json'))).toEqual([
      { page: '/', events: 1234, note: null },
      { page: '/products/12', events: 7, note: 'has "quotes", commas\nand a newline' },
    ]);
  });

  it('when there are no rows, the table shows the header and (0 rows)', () => {
    expect(formatResult({ columns: [{ name: 'x', type: 'INTEGER' }], rows: [] }, 'table')).toBe(
      'x\n-\n(0 rows)',
    );
  });

  it('when the result has 200,000 rows, the table renders every row (column widths do not overflow the stack)', () => {
    const rows = Array.from({ length: 200_000 }, (_, n) => [n]);
    const text = formatResult({ columns: [{ name: 'n', type: 'BIGINT' }], rows }, 'table');
    const lines = text.split('\n');
    expect(lines.length).toBe(200_000 + 3);
    expect(lines.slice(0, 3)).toEqual(['n', '------', '     0']);
    expect(lines.slice(-2)).toEqual(['199999', '(200000 rows)']);
  });
});
