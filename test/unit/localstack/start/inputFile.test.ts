import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../../../localstack/start/errors';
import {
  countBlankLines,
  detectFormat,
  parseCsv,
  parseJsonLines,
  readInputFile,
} from '../../../../localstack/start/inputFile';
import { writeParquetFixture } from '../query/parquetFixture';

describe('input files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sf-input-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when the extension is known, it picks the format; otherwise it names the accepted ones', () => {
    expect(detectFormat('a/b.JSONL')).toBe('jsonl');
    expect(detectFormat('x.ndjson')).toBe('jsonl');
    expect(detectFormat('x.csv')).toBe('csv');
    expect(detectFormat('x.parquet')).toBe('parquet');
    expect(() => detectFormat('x.xml')).toThrow(
      'Unknown input format for x.xml: use .jsonl/.ndjson/.json, .csv or .parquet',
    );
  });

  it('when JSON Lines are read, each non-blank line is sent verbatim, invalid ones included, keyed by the field', () => {
    const text = '{"user":"a","n":1}\n\n{"user":7}\r\n{not json\n{"other":1}\n';
    expect(parseJsonLines(text, 'user')).toEqual([
      { data: '{"user":"a","n":1}', partitionKey: 'a' },
      { data: '{"user":7}', partitionKey: '7' },
      { data: '{not json', partitionKey: 'record-2' },
      { data: '{"other":1}', partitionKey: 'record-3' },
    ]);
  });

  it('when a JSON Lines file starts with a UTF-8 byte order mark, its first record is read like the others', () => {
    const text = '{"user":"a"}\n\n{"user":"b"}\n';
    expect(parseJsonLines(`\uFEFF${text}`, 'user')).toEqual(parseJsonLines(text, 'user'));
    expect(parseJsonLines(`\uFEFF${text}`, 'user')[0]).toEqual({ data: '{"user":"a"}', partitionKey: 'a' });
    expect(countBlankLines(`\uFEFF${text}`)).toBe(1);
    // The CSV parser drops it too.
    expect(parseCsv('\uFEFFuser,n\nu1,1\n', 'user')).toEqual(parseCsv('user,n\nu1,1\n', 'user'));
  });

  it('when CSV is read, rows become JSON objects with numbers typed and ids like 007 kept as text', () => {
    const text = 'id,user,amount,note\n007,u1,12.5,"a, quoted"\n8,u2,-3,\n';
    const records = parseCsv(text, 'user');
    expect(records.map((r) => JSON.parse(r.data))).toEqual([
      { id: '007', user: 'u1', amount: 12.5, note: 'a, quoted' },
      { id: 8, user: 'u2', amount: -3, note: null },
    ]);
    expect(records.map((r) => r.partitionKey)).toEqual(['u1', 'u2']);
  });

  it('when CSV is ragged, it throws a one-line InputError', () => {
    expect(() => parseCsv('a,b\n1,2,3\n')).toThrow(InputError);
  });

  it('when the file does not exist, it throws "Input file not found"', async () => {
    await expect(readInputFile(join(dir, 'missing.jsonl'))).rejects.toThrow(
      `Input file not found: ${join(dir, 'missing.jsonl')}`,
    );
  });

  it('when a JSON Lines file is read from disk, it returns its records', async () => {
    const file = join(dir, 'in.jsonl');
    writeFileSync(file, '{"k":"x"}\n{"k":"y"}\n');
    expect(await readInputFile(file, 'k')).toEqual([
      { data: '{"k":"x"}', partitionKey: 'x' },
      { data: '{"k":"y"}', partitionKey: 'y' },
    ]);
  });

  // hyparquet is ESM-only: Jest's CommonJS runtime cannot import it, so the reader runs under tsx.
  it('when a Parquet file is read, rows become JSON objects with int64 as numbers and timestamps as ISO text', () => {
    const file = join(dir, 'in.parquet');
    writeParquetFixture(file, [
      { name: 'user', type: 'STRING', data: ['a', 'b'] },
      { name: 'n', type: 'INT64', data: [1, 2] },
      { name: 'ts', type: 'TIMESTAMP', data: [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2)] },
    ]);
    const script = `require('./localstack/start/inputFile').readInputFile(${JSON.stringify(file)}, 'user').then((r) => console.log(JSON.stringify(r)))`;
    const out = execFileSync(join(process.cwd(), 'node_modules/.bin/tsx'), ['-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual([
      { data: '{"user":"a","n":1,"ts":"2026-01-01T00:00:00.000Z"}', partitionKey: 'a' },
      { data: '{"user":"b","n":2,"ts":"2026-01-02T00:00:00.000Z"}', partitionKey: 'b' },
    ]);
  });
});
