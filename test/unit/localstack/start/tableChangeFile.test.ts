import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../../../localstack/start/errors';
import { parseChangeFile, type KeyAttribute } from '../../../../localstack/start/tableChangeFile';

const KEY: readonly KeyAttribute[] = [{ name: 'orderId', type: 'S' }];
const FORMAT = 'a table source reads changes, one {"put": {item}} or {"delete": {key}} per line';

/** The one-line error of a file whose line 2 is `line` (line 1 is blank). */
function errorOf(line: string, key: readonly KeyAttribute[] = KEY): string {
  try {
    parseChangeFile(`\n${line}\n`, key, 'orders.jsonl');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error(`line accepted: ${line}`);
}

describe('the change file of a table-source run', () => {
  it('when lines put and delete items, it reads them in order with their line numbers and counts the blank lines', () => {
    const text = [
      '{"put": {"orderId": "o1", "status": "paid", "amount": 1250, "tags": ["a"], "meta": {"x": null, "ok": true}}}',
      '',
      '  ',
      '{"delete": {"orderId": "o1"}}',
      '{"put": {"orderId": "o2", "status": "pending", "amount": 0}}',
    ].join('\r\n');
    expect(parseChangeFile(`${text}\n`, KEY, 'orders.jsonl')).toEqual({
      file: 'orders.jsonl',
      writes: [
        {
          line: 1,
          put: { orderId: 'o1', status: 'paid', amount: 1250, tags: ['a'], meta: { x: null, ok: true } },
        },
        { line: 4, delete: { orderId: 'o1' } },
        { line: 5, put: { orderId: 'o2', status: 'pending', amount: 0 } },
      ],
      blankLines: 2,
    });
  });

  it('when a table has a numeric sort key, puts and deletes must carry both key attributes', () => {
    const key: KeyAttribute[] = [
      { name: 'customer', type: 'S' },
      { name: 'seq', type: 'N' },
    ];
    expect(parseChangeFile('{"delete": {"customer": "c", "seq": 3}}', key).writes).toEqual([
      { line: 1, delete: { customer: 'c', seq: 3 } },
    ]);
    expect(errorOf('{"delete": {"customer": "c"}}', key)).toBe(
      `orders.jsonl line 2: the key has no key attribute seq; ${FORMAT}`,
    );
    expect(errorOf(`{"put": {"customer": "${'x'.repeat(1025)}", "seq": 3}}`, [key[1]!, key[0]!])).toBe(
      `orders.jsonl line 2: key attribute customer is 1025 bytes, over DynamoDB's 1024-byte sort key limit; ${FORMAT}`,
    );
    expect(errorOf('{"put": {"customer": "c", "seq": "3"}}', key)).toBe(
      `orders.jsonl line 2: key attribute seq must be a number (given "3"); ${FORMAT}`,
    );
  });

  it.each([
    ['not JSON', '{"put": {"orderId": "o2"', 'not JSON ({"put": {"orderId": "o2")'],
    ['a JSON array', '[1, 2]', 'must be {"put": {item}} or {"delete": {key}} (given [1,2])'],
    ['a bare string', '"put"', 'must be {"put": {item}} or {"delete": {key}} (given "put")'],
    [
      'an unknown operation',
      '{"upsert": {"orderId": "o2"}}',
      'must be {"put": {item}} or {"delete": {key}} (given ["upsert"])',
    ],
    [
      'two operations on one line',
      '{"put": {"orderId": "o2"}, "delete": {"orderId": "o1"}}',
      'must be {"put": {item}} or {"delete": {key}} (given ["put","delete"])',
    ],
    [
      'a put of a list',
      '{"put": [{"orderId": "o2"}]}',
      '"put" must be a non-empty JSON object (given [{"orderId":"o2"}])',
    ],
    ['an empty delete', '{"delete": {}}', '"delete" must be a non-empty JSON object (given {})'],
    ['a put without the key', '{"put": {"status": "paid"}}', 'the item has no key attribute orderId'],
    [
      'an empty string key',
      '{"put": {"orderId": ""}}',
      'key attribute orderId must be a non-empty string (given "")',
    ],
    [
      'a numeric key for a string key',
      '{"delete": {"orderId": 7}}',
      'key attribute orderId must be a non-empty string (given 7)',
    ],
    [
      'a delete naming more than the key',
      '{"delete": {"orderId": "o1", "status": "paid"}}',
      '"delete" names the key only (orderId); given also status',
    ],
    [
      'a partition key over 2048 bytes',
      `{"put": {"orderId": "${'é'.repeat(1025)}"}}`,
      "key attribute orderId is 2050 bytes, over DynamoDB's 2048-byte partition key limit",
    ],
    [
      'an integer JSON cannot carry exactly',
      '{"put": {"orderId": "o2", "amount": 12345678901234567890}}',
      'amount is an integer beyond 2^53, which JSON cannot carry exactly: write it as a string',
    ],
    [
      'a number beyond the double range',
      '{"put": {"orderId": "o2", "amount": 1e400}}',
      "amount is a number beyond DynamoDB's range",
    ],
    [
      'a number closer to 0 than DynamoDB stores',
      '{"put": {"orderId": "o2", "amount": 1e-200}}',
      "amount is a number closer to 0 than DynamoDB's smallest, 1E-130",
    ],
    [
      'a negative number closer to 0 than DynamoDB stores, nested',
      '{"put": {"orderId": "o2", "meta": {"rates": [1, -9.9e-131]}}}',
      "meta.rates[1] is a number closer to 0 than DynamoDB's smallest, 1E-130",
    ],
    [
      'an empty attribute name',
      '{"put": {"orderId": "o1", "": 1}}',
      'an attribute name is empty, which DynamoDB refuses',
    ],
    [
      'nesting deeper than DynamoDB stores',
      `{"put": {"orderId": "o2", "deep": ${'['.repeat(40)}${']'.repeat(40)}}}`,
      "deep[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0] nests deeper than DynamoDB's 32 levels",
    ],
    [
      'an item over 400 KB',
      `{"put": {"orderId": "o2", "note": "${'x'.repeat(410_000)}"}}`,
      "the item is 410013 bytes, over DynamoDB's 409600-byte item limit",
    ],
  ])('when a line is %s, it refuses the file naming the line and what is wrong', (_name, line, reason) => {
    expect(errorOf(line)).toBe(`orders.jsonl line 2: ${reason}; ${FORMAT}`);
  });

  it('when numbers are at DynamoDB’s smallest magnitude or zero, they are accepted', () => {
    expect(
      parseChangeFile('{"put": {"orderId": "o2", "a": 1e-130, "b": -1e-130, "c": 0, "d": -0}}', KEY).writes,
    ).toHaveLength(1);
  });

  it('when the table has a binary key, it says a change file cannot write it', () => {
    expect(errorOf('{"put": {"orderId": "AAE="}}', [{ name: 'orderId', type: 'B' }])).toBe(
      `orders.jsonl line 2: key attribute orderId is binary, which a change file cannot write; ${FORMAT}`,
    );
  });

  it.each([
    ['{"put": {"orderId": "o1", "__proto__": "x", "amount": 5}}', '__proto__'],
    ['{"put": {"orderId": "o1", "meta": {"__proto__": {"isAdmin": true}}}}', 'meta.__proto__'],
    ['{"put": {"orderId": "o1", "l": [1, {"__proto__": null}]}}', 'l[1].__proto__'],
    ['{"delete": {"__proto__": "o1"}}', '__proto__'],
  ])(
    'when a line has an attribute named __proto__ (%s), it fails in one line naming the line and the attribute, before anything is written',
    (line, path) => {
      expect(errorOf(line, undefined)).toBe(
        `orders.jsonl line 2: attribute "${path}" is named __proto__, which a table source does not carry; ${FORMAT}`,
      );
    },
  );

  it('when a line has an ordinary attribute named constructor, it is written', () => {
    const { writes } = parseChangeFile('{"put": {"orderId": "o1", "constructor": "Williams"}}', KEY);
    expect(writes).toEqual([expect.objectContaining({ put: { orderId: 'o1', constructor: 'Williams' } })]);
  });

  it('when an item is just under the limit by DynamoDB sizes, it is accepted', () => {
    const note = 'x'.repeat(409_600 - 'orderId'.length - 2 - 'note'.length);
    expect(parseChangeFile(`{"put": {"orderId": "o2", "note": "${note}"}}`, KEY).writes).toHaveLength(1);
  });
});

describe('the change file saved with a UTF-8 byte order mark', () => {
  it('when the file starts with one, its first line is read like the others', () => {
    const text = '{"put": {"orderId": "o1", "amount": 1}}\n{"delete": {"orderId": "o1"}}\n';
    expect(parseChangeFile(`\uFEFF${text}`, KEY, 'orders.jsonl')).toEqual(
      parseChangeFile(text, KEY, 'orders.jsonl'),
    );
  });
});

describe('the change file read before the table exists (no key yet)', () => {
  it('when the key is unknown, shapes and limits are checked but not the key attributes', () => {
    expect(parseChangeFile('{"delete": {"orderId": "o1", "sk": 2}}', undefined).writes).toEqual([
      { line: 1, delete: { orderId: 'o1', sk: 2 } },
    ]);
    expect(() => parseChangeFile('{"delete": []}', undefined, 'f.jsonl')).toThrow(
      'f.jsonl line 1: "delete" must be a non-empty JSON object (given [])',
    );
  });
});

describe('the sample change file shipped with the CDC example', () => {
  it('when read against the orders key, every line is a valid write, with inserts, updates and deletes', () => {
    const text = readFileSync(
      join(__dirname, '../../../../functions/pipelines/orders/orders.changes.jsonl'),
      'utf8',
    );
    const { writes, blankLines } = parseChangeFile(text, KEY);
    expect(blankLines).toBe(0);
    const ids = new Set<unknown>();
    let updates = 0;
    for (const write of writes)
      if ('put' in write) {
        if (ids.has(write.put.orderId)) updates++;
        ids.add(write.put.orderId);
      }
    expect(updates).toBeGreaterThan(5);
    expect(writes.filter((w) => 'delete' in w).length).toBeGreaterThan(2);
  });
});
