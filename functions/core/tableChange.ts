/**
 * A table change (change data capture from a DynamoDB stream): the typed record a table-source pipeline's
 * `clean` receives, and which images each stream view type must carry. Pure: the edge
 * (`adapters/dynamoDBStreamEventCodec.ts`) builds changes from Lambda's event and asks this module what is
 * missing.
 */
import { MAX_ITEM_BYTES } from './state/limits';
import type { EpochMillis } from './types';

/** What a DynamoDB stream writes for each change (its `StreamViewType`). */
export const STREAM_VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const;
export type StreamViewType = (typeof STREAM_VIEW_TYPES)[number];

/** The kinds of change. */
export const CHANGE_EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE'] as const;
export type ChangeEventName = (typeof CHANGE_EVENT_NAMES)[number];

/**
 * One change of one item, images unmarshalled to plain JSON (numbers as numbers, sets as arrays).
 * `eventTime` is the change's `ApproximateCreationDateTime` in epoch ms.
 */
export interface TableChange<Item = Record<string, unknown>> {
  readonly eventName: ChangeEventName;
  readonly keys: Record<string, unknown>;
  /** The item after the change (INSERT, MODIFY) when the view has new images. */
  readonly newImage?: Item;
  /** The item before the change (MODIFY, REMOVE) when the view has old images. */
  readonly oldImage?: Item;
  readonly eventTime: EpochMillis;
  /**
   * `true` on a REMOVE that DynamoDB's Time to Live did (the item expired), absent on every other change,
   * a delete by a user included. The stream tells them apart by the record's `userIdentity` only.
   */
  readonly expired?: true;
}

/** The `userIdentity` DynamoDB writes on a stream record of an item its Time to Live deleted. */
export const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

/**
 * True when a change is a Time-to-Live expiry: a REMOVE whose record's `userIdentity` (any value: the
 * record is hostile input) is {@link TTL_IDENTITY}.
 *
 * @example isExpiry('REMOVE', { type: 'Service', principalId: 'dynamodb.amazonaws.com' }); // true
 */
export function isExpiry(eventName: ChangeEventName, userIdentity: unknown): boolean {
  if (eventName !== 'REMOVE' || typeof userIdentity !== 'object' || userIdentity === null) return false;
  const { type, principalId } = userIdentity as Record<string, unknown>;
  return type === TTL_IDENTITY.type && principalId === TTL_IDENTITY.principalId;
}

/**
 * Largest primary key DynamoDB stores: a 2048-byte partition key and a 1024-byte sort key, with their names
 * (at most 255 bytes each).
 */
const MAX_KEY_BYTES = 2048 + 1024 + 2 * 255;

/**
 * Largest stream record DynamoDB writes, in its own unit (the record's `SizeBytes`): the key and two items
 * of at most 400 KB each (a MODIFY of a NEW_AND_OLD_IMAGES stream). Kinesis' 1 MiB record limit does not
 * apply to a change: it never travels through Kinesis.
 */
export const MAX_STREAM_RECORD_BYTES = 2 * MAX_ITEM_BYTES + MAX_KEY_BYTES;

/**
 * Most bytes a change's JSON takes per byte DynamoDB counts: a control character in a string or a name
 * is one byte to DynamoDB and six as a JSON escape (`\u0001`); quotes, colon and comma add up to six per
 * attribute, which costs DynamoDB at least its name's bytes (names are unique, so short ones are few:
 * three-byte names of control characters come to 8×, the two- and one-byte ones exceed it by a few KB).
 * Binary grows by 4/3 (base64), numbers by less.
 */
const CHANGE_JSON_EXPANSION = 8;
/** Room for the change's envelope and the few short names that inflate beyond the factor. */
const CHANGE_JSON_SLACK_BYTES = 64 * 1024;

/**
 * Largest JSON a change of a stream record of `sizeBytes` (DynamoDB's count, at most
 * {@link MAX_STREAM_RECORD_BYTES}) can take.
 */
export function maxChangeJsonBytes(sizeBytes: number): number {
  return CHANGE_JSON_EXPANSION * sizeBytes + CHANGE_JSON_SLACK_BYTES;
}

/** Largest JSON of any change: the payload limit a table source's records are decoded with. */
export const MAX_CHANGE_JSON_BYTES = maxChangeJsonBytes(MAX_STREAM_RECORD_BYTES);

/**
 * Why a stream record is too large to be one DynamoDB wrote (more than two items and a key), or undefined.
 *
 * @example oversizeStreamRecord(900_000); // 'stream record of 900000 bytes (SizeBytes) exceeds ...'
 */
export function oversizeStreamRecord(sizeBytes: number): string | undefined {
  return sizeBytes > MAX_STREAM_RECORD_BYTES
    ? `stream record of ${sizeBytes} bytes (SizeBytes) exceeds ${MAX_STREAM_RECORD_BYTES} bytes, two items of DynamoDB's ${MAX_ITEM_BYTES}-byte limit and their key`
    : undefined;
}

/**
 * Why a change's JSON of `jsonBytes` is larger than its stream record's items can inflate to (`sizeBytes`
 * understates it; the largest record when the record does not say), or undefined.
 */
export function oversizeChangeJson(jsonBytes: number, sizeBytes: number | undefined): string | undefined {
  const max = maxChangeJsonBytes(sizeBytes ?? MAX_STREAM_RECORD_BYTES);
  return jsonBytes > max
    ? `change of ${jsonBytes} bytes as JSON exceeds ${max} bytes, the most ${sizeBytes === undefined ? `a stream record of ${MAX_STREAM_RECORD_BYTES} bytes` : `its stream record of ${sizeBytes} bytes (SizeBytes)`} inflates to`
    : undefined;
}

/** A decimal's value as its significant digits and the exponent of the first: `'-0.0120'` → `'-12e-2'`. */
function canonicalDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (m === null) return text;
  const [, sign, int = '', frac = '', exp = '0'] = m;
  const digits = int + frac;
  const lead = digits.search(/[1-9]/);
  if (lead < 0) return '0';
  return `${sign === '-' ? '-' : ''}${digits.slice(lead).replace(/0+$/, '')}e${Number(exp) + int.length - lead - 1}`;
}

/**
 * Why the JSON number `n` read from a DynamoDB number's `text` (up to 38 significant digits) is not that
 * number, or undefined when it is: not finite, an integer beyond 2^53, or a value beyond 2^53 whose double is
 * another value (`9007199254740993.25` reads as 9007199254740992). Such a number is refused, never rounded.
 * Within ±2^53 a value is carried as any JSON number is, to the nearest double (0.1, 19.99, 1e-7, a
 * 28-digit 1/3 from a decimal library): the Kinesis path reads JSON numbers the same way.
 *
 * @example numberProblem('12345678901234567890.5', 12345678901234567890.5); // 'beyond 2^53 …'
 */
export function numberProblem(text: string, n: number): string | undefined {
  if (Number.isNaN(n)) return 'not a decimal number';
  if (!Number.isFinite(n)) return 'beyond the double range';
  if (Math.abs(n) <= Number.MAX_SAFE_INTEGER) return undefined;
  if (Number.isInteger(n) && /^-?\d+$/.test(text)) return 'an integer beyond 2^53';
  const carried = String(n);
  return canonicalDecimal(carried) === canonicalDecimal(text)
    ? undefined
    : `beyond 2^53 with more significant digits than a double keeps (it would read ${carried})`;
}

/**
 * Attribute names a table change does not carry: `__proto__`, which util-dynamodb's (un)marshalling assigns
 * with `item[name] =`, so it is dropped or, holding a map, becomes the item's prototype. A change holding one
 * at any depth is refused whole (it goes to `rejected/` as it came), never delivered without the attribute.
 * (`constructor` is carried; the clean step removes it as from any JSON record, `payloadCodec.ts`, so a schema
 * that reads it refuses the record naming it.)
 */
export const RESERVED_ATTRIBUTE_NAMES: readonly string[] = ['__proto__'];

const isReserved = (name: string): boolean => RESERVED_ATTRIBUTE_NAMES.includes(name);

/**
 * Where an image in DynamoDB JSON (`{ name: { S: ... } | { M: {...} } | { L: [...] } ... }`) holds an
 * attribute of a {@link RESERVED_ATTRIBUTE_NAMES} name (`'a.__proto__'`, `'list[2].__proto__'`), or
 * undefined. Reads own properties only; anything not a map or list is not walked.
 *
 * @example reservedAttributePath({ a: { M: { ['__proto__']: { S: 'x' } } } }); // 'a.__proto__'
 */
export function reservedAttributePath(image: object): string | undefined {
  return reservedInMap(image, '', true);
}

/**
 * Where a plain JSON item (a change file's) holds an attribute of a {@link RESERVED_ATTRIBUTE_NAMES} name
 * at any depth, or undefined.
 */
export function reservedPlainPath(value: unknown): string | undefined {
  return reservedInValue(value, '', false);
}

/**
 * The one walk of both forms: `typed` for DynamoDB JSON, whose maps and lists are the values of `M` and `L`
 * wrappers; else plain JSON objects and arrays.
 */
function reservedInMap(map: object, path: string, typed: boolean): string | undefined {
  for (const name of Object.keys(map)) {
    const at = path === '' ? name : `${path}.${name}`;
    if (isReserved(name)) return at;
    const found = reservedInValue((map as Record<string, unknown>)[name], at, typed);
    if (found !== undefined) return found;
  }
  return undefined;
}

function reservedInValue(value: unknown, path: string, typed: boolean): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let node: unknown = value;
  if (typed) {
    const { M: map, L: list } = value as { M?: unknown; L?: unknown };
    if (Object.hasOwn(value, 'M') && typeof map === 'object' && map !== null && !Array.isArray(map))
      node = map;
    else if (Object.hasOwn(value, 'L') && Array.isArray(list)) node = list;
    else return undefined;
  }
  if (!Array.isArray(node)) return reservedInMap(node as object, path, typed);
  for (const [i, item] of node.entries()) {
    const found = reservedInValue(item, `${path}[${i}]`, typed);
    if (found !== undefined) return found;
  }
  return undefined;
}

const HAS_NEW: ReadonlySet<StreamViewType> = new Set(['NEW_IMAGE', 'NEW_AND_OLD_IMAGES']);
const HAS_OLD: ReadonlySet<StreamViewType> = new Set(['OLD_IMAGE', 'NEW_AND_OLD_IMAGES']);

/**
 * Why a change cannot be what `view` delivers (an image the view carries for this kind of change is
 * missing), or undefined when it can.
 *
 * @example missingImage('MODIFY', 'NEW_AND_OLD_IMAGES', true, false); // 'MODIFY without OldImage ...'
 */
export function missingImage(
  eventName: ChangeEventName,
  view: StreamViewType,
  hasNewImage: boolean,
  hasOldImage: boolean,
): string | undefined {
  if (HAS_NEW.has(view) && eventName !== 'REMOVE' && !hasNewImage)
    return `${eventName} without NewImage on a ${view} stream`;
  if (HAS_OLD.has(view) && eventName !== 'INSERT' && !hasOldImage)
    return `${eventName} without OldImage on a ${view} stream`;
  return undefined;
}
