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
  it('when the format is table, it aligns columns, right-aligns numbers, escapes line breaks in values and counts the rows', () => {
    expect(formatResult(result, 'table')).toBe(
      [
        'page         | events | note',
        '-------------+--------+------------------------------------',
        '/            |   1234 | NULL',
        '/products/12 |      7 | has "quotes", commas\\nand a newline',
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

  it('when key values hold terminal control characters, the table shows them escaped and only rows break lines', () => {
    const hostile: QueryResult = {
      columns: [
        { name: 'page', type: 'VARCHAR' },
        { name: 'events', type: 'BIGINT' },
      ],
      rows: [
        // A carriage return would print "/checkout | 999999" over the start of the line.
        ['/evil | 1\r/checkout', 999_999],
        // ESC [1A ESC [2K (cursor up, erase line) would hide the row before; C1 CSI (U+009B) likewise.
        ['/home\u001b[1A\u001b[2K\u009b2K', 5],
        // OSC 52 ended by BEL: a clipboard write on some terminals; then a tab, a backspace and DEL.
        ['/x\u001b]52;c;Y3VybA==\u0007\t\b\u007f', 1],
      ],
    };
    const text = formatResult(hostile, 'table');
    expect(text.split('\n')).toEqual([
      'page                               | events',
      '-----------------------------------+-------',
      '/evil | 1\\r/checkout               | 999999',
      '/home\\x1b[1A\\x1b[2K\\x9b2K          |      5',
      '/x\\x1b]52;c;Y3VybA==\\x07\\t\\x08\\x7f |      1',
      '(3 rows)',
    ]);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('when key values hold bidirectional formatting characters, the table shows them escaped so a row cannot be shown reordered', () => {
    const hostile: QueryResult = {
      columns: [{ name: 'page', type: 'VARCHAR' }],
      // RIGHT-TO-LEFT OVERRIDE would show "/cart" as "trac/"; isolates and marks likewise reorder text.
      rows: [['/\u202etrac'], ['\u2066a\u2069\u200f\u061c']],
    };
    expect(formatResult(hostile, 'table').split('\n').slice(2, 4)).toEqual([
      '/\\u{202e}trac',
      '\\u{2066}a\\u{2069}\\u{200f}\\u{61c}',
    ]);
  });

  it('when a value holds a backslash, the table doubles it, so a literal backslash-n and an escaped line break print differently', () => {
    const rows: QueryResult = {
      columns: [{ name: 'page', type: 'VARCHAR' }],
      // The first value is a real line break; the second the two characters backslash and n.
      rows: [['/a\nb'], ['/a\\nb'], ['C:\\x1b']],
    };
    const body = formatResult(rows, 'table').split('\n').slice(2, 5);
    expect(body).toEqual(['/a\\nb', '/a\\\\nb', 'C:\\\\x1b']);
    expect(new Set(body).size).toBe(3);
  });

  it('when column names repeat (a self-join), json keeps every column, renaming the repeats as DuckDB does', () => {
    const selfJoin: QueryResult = {
      columns: [
        { name: 'page', type: 'VARCHAR' },
        { name: 'events', type: 'BIGINT' },
        { name: 'page', type: 'VARCHAR' },
        { name: 'events', type: 'BIGINT' },
        { name: 'page_1', type: 'VARCHAR' },
      ],
      rows: [['/', 3, '/cart', 7, 'x']],
    };
    expect(JSON.parse(formatResult(selfJoin, 'json'))).toEqual([
      { page: '/', events: 3, page_1: '/cart', events_1: 7, page_1_1: 'x' },
    ]);
  });

  it('when a double is NaN or infinite, json writes it as the string Athena does, unlike NULL', () => {
    const doubles: QueryResult = {
      columns: [{ name: 'revenue', type: 'DOUBLE' }],
      rows: [[Number.NaN], [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY], [null], [1.5]],
    };
    expect(JSON.parse(formatResult(doubles, 'json'))).toEqual([
      { revenue: 'NaN' },
      { revenue: 'Infinity' },
      { revenue: '-Infinity' },
      { revenue: null },
      { revenue: 1.5 },
    ]);
  });
});
