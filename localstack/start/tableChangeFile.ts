/**
 * The input of `shardflow run` for a table-source pipeline: a change file, JSON Lines of writes applied to the
 * source table in order, one per line:
 *
 *   {"put": {"orderId": "o1", "status": "paid", "amount": 1250}}   PutItem: inserts, or replaces the item
 *   {"delete": {"orderId": "o1"}}                                   DeleteItem by the item's key
 *
 * Items are plain JSON (strings, numbers, booleans, null, lists, maps); blank lines are skipped. Every line is
 * checked before anything is written, each problem named with its line number. Pure: the writes themselves
 * are `applyTableChanges.ts`'s.
 */
import { MAX_ITEM_BYTES } from '../../functions/core/state/limits';
import { RESERVED_ATTRIBUTE_NAMES, reservedPlainPath } from '../../functions/core/tableChange';
import { InputError } from './errors';
import { textLines } from './inputFile';

/** One key attribute of the table (from DescribeTable). */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** One write of a change file. */
export type TableWrite =
  | { readonly line: number; readonly put: Record<string, unknown> }
  | { readonly line: number; readonly delete: Record<string, unknown> };

/** A change file read: its name, its writes in order, and the blank lines skipped. */
export interface ChangeFile {
  readonly file: string;
  readonly writes: readonly TableWrite[];
  readonly blankLines: number;
}

/** DynamoDB's deepest nesting of lists and maps. */
const MAX_DEPTH = 32;
/**
 * DynamoDB's smallest magnitude of a non-zero number (its largest, 1E+126, is far beyond 2^53, refused
 * before: JSON cannot carry such integers exactly).
 */
const MIN_NUMBER_MAGNITUDE = 1e-130;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** Bytes of a number as DynamoDB counts them: one per two significant digits, plus one. */
function numberBytes(value: number): number {
  const digits = Math.abs(value)
    .toExponential()
    .replace(/e.*$/, '')
    .replace(/[^0-9]/g, '');
  return Math.ceil(digits.length / 2) + 1;
}

/**
 * Bytes of a value as DynamoDB counts them (UTF-8 strings, numbers by significant digits, 3 bytes per list or
 * map plus 1 per element and the map's names); throws a one-line reason for what DynamoDB cannot store.
 */
function valueBytes(value: unknown, path: string, depth: number): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'boolean' || value === null) return 1;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is a number beyond DynamoDB's range`);
    if (value !== 0 && Math.abs(value) < MIN_NUMBER_MAGNITUDE)
      throw new Error(`${path} is a number closer to 0 than DynamoDB's smallest, 1E-130`);
    if (Number.isInteger(value) && !Number.isSafeInteger(value))
      throw new Error(
        `${path} is an integer beyond 2^53, which JSON cannot carry exactly: write it as a string`,
      );
    return numberBytes(value);
  }
  if (depth >= MAX_DEPTH) throw new Error(`${path} nests deeper than DynamoDB's ${MAX_DEPTH} levels`);
  if (Array.isArray(value))
    return value.reduce<number>((n, v, i) => n + 1 + valueBytes(v, `${path}[${i}]`, depth + 1), 3);
  if (isObject(value))
    return Object.entries(value).reduce<number>(
      (n, [k, v]) => n + 1 + Buffer.byteLength(k, 'utf8') + valueBytes(v, `${path}.${k}`, depth + 1),
      3,
    );
  throw new Error(`${path} is not a JSON value`);
}

/** DynamoDB's largest partition key and sort key values, in bytes. */
const MAX_KEY_BYTES = [2048, 1024] as const;

/** Why `attributes` lacks or mistypes a key attribute, or undefined. */
function keyProblem(attributes: Record<string, unknown>, key: readonly KeyAttribute[], what: string) {
  for (const [i, { name, type }] of key.entries()) {
    const value = attributes[name];
    if (value === undefined) return `the ${what} has no key attribute ${name}`;
    if (type === 'B') return `key attribute ${name} is binary, which a change file cannot write`;
    if (type === 'S' && (typeof value !== 'string' || value === ''))
      return `key attribute ${name} must be a non-empty string (given ${shown(value)})`;
    if (type === 'N' && typeof value !== 'number')
      return `key attribute ${name} must be a number (given ${shown(value)})`;
    const max = MAX_KEY_BYTES[i === 0 ? 0 : 1];
    if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > max)
      return `key attribute ${name} is ${Buffer.byteLength(value, 'utf8')} bytes, over DynamoDB's ${max}-byte ${i === 0 ? 'partition' : 'sort'} key limit`;
  }
  return undefined;
}

/** One line read into a write, or a one-line reason it cannot be one. */
function readLine(text: string, line: number, key: readonly KeyAttribute[] | undefined): TableWrite {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    throw new Error(`not JSON (${trimmed.length > 60 ? `${trimmed.slice(0, 57)}...` : trimmed})`);
  }
  const ops = isObject(parsed) ? Object.keys(parsed) : [];
  if (!isObject(parsed) || ops.length !== 1 || (ops[0] !== 'put' && ops[0] !== 'delete'))
    throw new Error(
      `must be {"put": {item}} or {"delete": {key}} (given ${shown(isObject(parsed) ? ops : parsed)})`,
    );
  const op = ops[0] as 'put' | 'delete';
  const attributes = parsed[op];
  if (!isObject(attributes) || Object.keys(attributes).length === 0)
    throw new Error(`"${op}" must be a non-empty JSON object (given ${shown(attributes)})`);
  if (Object.hasOwn(attributes, '')) throw new Error('an attribute name is empty, which DynamoDB refuses');
  // PutItem's marshall would drop a "__proto__" silently, and the stream's change would be refused.
  const reserved = reservedPlainPath(attributes);
  if (reserved !== undefined)
    throw new Error(
      `attribute ${shown(reserved)} is named ${RESERVED_ATTRIBUTE_NAMES.join(' or ')}, which a table source does not carry`,
    );
  const problem = key === undefined ? undefined : keyProblem(attributes, key, op === 'put' ? 'item' : 'key');
  if (problem !== undefined) throw new Error(problem);
  if (op === 'delete' && key !== undefined) {
    const extra = Object.keys(attributes).filter((name) => !key.some((k) => k.name === name));
    if (extra.length > 0)
      throw new Error(
        `"delete" names the key only (${key.map((k) => k.name).join(', ')}); given also ${extra.join(', ')}`,
      );
  }
  const bytes = Object.entries(attributes).reduce(
    (n, [name, value]) => n + Buffer.byteLength(name, 'utf8') + valueBytes(value, name, 1),
    0,
  );
  if (bytes > MAX_ITEM_BYTES)
    throw new Error(`the item is ${bytes} bytes, over DynamoDB's ${MAX_ITEM_BYTES}-byte item limit`);
  return op === 'put' ? { line, put: attributes } : { line, delete: attributes };
}

/**
 * Reads a change file's text against the table's key: each line a put or a delete, in order. Without the key
 * (before the table exists) every check but the key's runs.
 *
 * @throws InputError naming the first bad line, what is wrong, and the format.
 */
export function parseChangeFile(
  text: string,
  key: readonly KeyAttribute[] | undefined,
  file = 'input',
): ChangeFile {
  const writes: TableWrite[] = [];
  let blankLines = 0;
  textLines(text).forEach((content, i) => {
    if (content.trim() === '') {
      blankLines++;
      return;
    }
    try {
      writes.push(readLine(content, i + 1, key));
    } catch (error) {
      throw new InputError(
        `${file} line ${i + 1}: ${(error as Error).message}; a table source reads changes, one {"put": {item}} or {"delete": {key}} per line`,
      );
    }
  });
  return { file, writes, blankLines };
}
