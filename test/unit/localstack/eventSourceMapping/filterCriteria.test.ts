import { compileFilterCriteria, filterView } from '../../../../localstack/eventSourceMapping/filterCriteria';
import { FilterPatternError } from '../../../../localstack/eventSourceMapping/errors';

const record = (data: unknown, partitionKey = 'pk-1') =>
  filterView({
    partitionKey,
    sequenceNumber: '1',
    data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)),
    approximateArrivalTimestamp: 1000,
  });

describe('compileFilterCriteria', () => {
  it('when there are no patterns, it keeps every record', () => {
    expect(compileFilterCriteria([])(record('not json'))).toBe(true);
  });

  it.each([
    ['exact value', '{"data":{"kind":["click"]}}', { kind: 'click' }, { kind: 'view' }],
    ['prefix', '{"data":{"page":[{"prefix":"/shop"}]}}', { page: '/shop/1' }, { page: '/home' }],
    ['suffix', '{"data":{"page":[{"suffix":".html"}]}}', { page: 'a.html' }, { page: 'a.htm' }],
    [
      'equals-ignore-case',
      '{"data":{"kind":[{"equals-ignore-case":"CLICK"}]}}',
      { kind: 'Click' },
      { kind: 'clicks' },
    ],
    ['numeric range', '{"data":{"delay":[{"numeric":[">",0,"<=",15]}]}}', { delay: 15 }, { delay: 16 }],
    ['exists true', '{"data":{"user":[{"exists":true}]}}', { user: 'u' }, { other: 1 }],
    ['exists false', '{"data":{"user":[{"exists":false}]}}', { other: 1 }, { user: 'u' }],
    [
      'anything-but list',
      '{"data":{"kind":[{"anything-but":["view","scroll"]}]}}',
      { kind: 'click' },
      { kind: 'view' },
    ],
    [
      'anything-but prefix',
      '{"data":{"page":[{"anything-but":{"prefix":"/admin"}}]}}',
      { page: '/shop' },
      { page: '/admin/x' },
    ],
    [
      'nested object',
      '{"data":{"user":{"tier":["gold"]}}}',
      { user: { tier: 'gold' } },
      { user: { tier: 'free' } },
    ],
    ['array values', '{"data":{"tags":["sale"]}}', { tags: ['new', 'sale'] }, { tags: ['new'] }],
    [
      '$or',
      '{"data":{"$or":[{"kind":["click"]},{"delay":[{"numeric":[">",100]}]}]}}',
      { kind: 'view', delay: 101 },
      { kind: 'view', delay: 5 },
    ],
    ['null', '{"data":{"user":[null]}}', { user: null }, { user: 'x' }],
  ])(
    'when the pattern uses %s, it keeps matching records and drops others',
    (_name, pattern, matching, other) => {
      const keep = compileFilterCriteria([pattern]);
      expect(keep(record(matching))).toBe(true);
      expect(keep(record(other))).toBe(false);
    },
  );

  it('when a nested pattern addresses a field of objects inside a list, it matches when any element matches (event-ruler crushes the list)', () => {
    const keep = compileFilterCriteria(['{"data":{"items":{"sku":["A-1"]}}}']);
    expect(keep(record({ items: [{ sku: 'B-2' }, { sku: 'A-1' }] }))).toBe(true);
    expect(keep(record({ items: [{ sku: 'B-2' }] }))).toBe(false);
  });

  it('when a nested pattern has two fields, they must match in the same list element', () => {
    const keep = compileFilterCriteria(['{"data":{"items":{"sku":["A-1"],"qty":[2]}}}']);
    expect(keep(record({ items: [{ sku: 'A-1', qty: 2 }] }))).toBe(true);
    expect(
      keep(
        record({
          items: [
            { sku: 'A-1', qty: 1 },
            { sku: 'B-2', qty: 2 },
          ],
        }),
      ),
    ).toBe(false);
  });

  it('when exists is on an intermediate (object) node, it does not see it (event-ruler: exists works on leaves only)', () => {
    expect(
      compileFilterCriteria(['{"data":{"order":[{"exists":true}]}}'])(record({ order: { id: 7 } })),
    ).toBe(false);
    expect(
      compileFilterCriteria(['{"data":{"order":[{"exists":false}]}}'])(record({ order: { id: 7 } })),
    ).toBe(true);
    expect(compileFilterCriteria(['{"data":{"order":[{"exists":true}]}}'])(record({ order: [1] }))).toBe(
      true,
    );
  });

  it('when a pattern filters on metadata, it matches the partition key', () => {
    const keep = compileFilterCriteria(['{"partitionKey":[{"prefix":"eu-"}]}']);
    expect(keep(record({}, 'eu-1'))).toBe(true);
    expect(keep(record({}, 'us-1'))).toBe(false);
  });

  it('when the data is not JSON, data patterns do not match', () => {
    expect(compileFilterCriteria(['{"data":{"kind":["click"]}}'])(record('plain text'))).toBe(false);
  });

  it('when several patterns are given, it keeps records matching any of them', () => {
    const keep = compileFilterCriteria(['{"data":{"kind":["a"]}}', '{"data":{"kind":["b"]}}']);
    expect([keep(record({ kind: 'a' })), keep(record({ kind: 'b' })), keep(record({ kind: 'c' }))]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it.each([
    ['not JSON', '{data'],
    ['unknown operator', '{"data":{"x":[{"regex":"a"}]}}'],
    ['bad numeric operator', '{"data":{"x":[{"numeric":["!",1]}]}}'],
    ['scalar leaf', '{"data":{"x":"a"}}'],
  ])('when the pattern is %s, it throws a FilterPatternError', (_name, pattern) => {
    expect(() => compileFilterCriteria([pattern])).toThrow(FilterPatternError);
  });
});
