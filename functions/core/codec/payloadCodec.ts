import * as nodeBuffer from 'node:buffer';
import { REJECT_REASONS, type RejectReason } from '../types';

/** Largest accepted decoded payload: 1 MiB, the Kinesis record limit. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Deepest accepted JSON nesting (objects and arrays). */
export const MAX_JSON_DEPTH = 64;
/** Longest prefix of a bad payload kept in a rejection. */
export const MAX_REJECTED_DATA_CHARS = 8192;

/**
 * Why a payload could not be decoded. Returned, never thrown: decoding is on the per-record hot path and
 * a bad record must not fail the batch. Only allocated on failure.
 */
export class PayloadFailure {
  public constructor(
    public readonly reason: RejectReason,
    public readonly detail: string,
  ) {}
}

/** Longest base64 text of a payload of at most `maxBytes`. */
const maxBase64Chars = (maxBytes: number): number => Math.ceil(maxBytes / 3) * 4;
// Bound once: CommonJS interop (tsx, esbuild) turns a named import into a getter call per use, which
// showed up in the hot-path profile.
const isUtf8 = nodeBuffer.isUtf8;

/**
 * The checks of a base64 payload before decoding it (shared by {@link decodeBase64} and
 * {@link decodeRecordData}): a non-empty string, no longer than a `maxBytes` payload encodes to, length
 * a multiple of 4.
 *
 * @returns the decoded length clean base64 of this length and padding has, or the failure.
 */
function expectedBase64Bytes(data: string, maxBytes: number): number | PayloadFailure {
  if (typeof data !== 'string' || data.length === 0)
    return new PayloadFailure(REJECT_REASONS.EMPTY_RECORD, 'payload is empty');
  if (data.length > maxBase64Chars(maxBytes)) {
    return new PayloadFailure(
      REJECT_REASONS.OVERSIZE_RECORD,
      `payload exceeds ${maxBytes} bytes (base64 length ${data.length})`,
    );
  }
  if (data.length % 4 !== 0)
    return new PayloadFailure(
      REJECT_REASONS.INVALID_BASE64,
      `base64 length ${data.length} is not a multiple of 4`,
    );
  const padding =
    data.charCodeAt(data.length - 1) === 61 ? (data.charCodeAt(data.length - 2) === 61 ? 2 : 1) : 0;
  return (data.length / 4) * 3 - padding;
}

/**
 * The checks after decoding: Node's decoder silently skips invalid characters, so a decoded length other
 * than `expected` means the input was not clean base64; the decoded payload must fit `maxBytes`.
 */
function decodedLengthFailure(
  decoded: number,
  expected: number,
  maxBytes: number,
): PayloadFailure | undefined {
  if (decoded !== expected) {
    return new PayloadFailure(
      REJECT_REASONS.INVALID_BASE64,
      'payload contains characters outside the base64 alphabet',
    );
  }
  if (decoded > maxBytes) {
    return new PayloadFailure(
      REJECT_REASONS.OVERSIZE_RECORD,
      `payload exceeds ${maxBytes} bytes (${decoded} bytes)`,
    );
  }
  return undefined;
}

/**
 * Decodes a base64 payload strictly: the length must be a multiple of 4 and every character must be in
 * the alphabet. Node's decoder silently skips invalid characters, so a decoded length different from the
 * one the input length implies means the input was not clean base64. (Node also accepts the URL-safe
 * `-`/`_` characters; both alphabets are accepted.)
 */
export function decodeBase64(data: string): Uint8Array | PayloadFailure {
  const expected = expectedBase64Bytes(data, MAX_RECORD_BYTES);
  if (typeof expected !== 'number') return expected;
  const bytes = Buffer.from(data, 'base64');
  return decodedLengthFailure(bytes.length, expected, MAX_RECORD_BYTES) ?? bytes;
}

/** A payload the fused decoder did not parse because it may be a KPL aggregate (first byte 0xF3). */
export class UndecodedPayload {
  public constructor(
    /** The decoded bytes (a copy owned by the caller). */
    public readonly bytes: Uint8Array,
  ) {}
}

// Bound once (see isUtf8 above).
const utf8Length = nodeBuffer.Buffer.byteLength;
const base64ToLatin1 = globalThis.atob;

/**
 * The fast lane of {@link decodeRecordData}: the text of clean standard base64 whose bytes are all ASCII
 * (what a JSON producer sends), or undefined for anything else, which takes the strict Buffer path and
 * gets its answer there (URL-safe alphabet, whitespace, misplaced padding, any byte ≥ 0x80: the KPL
 * magic, UTF-8 beyond ASCII, invalid UTF-8). `atob` decodes base64 straight to a Latin-1 string in one
 * native step, without the Buffer and the UTF-8 decoding: about 0.1x of the engine bench's bare decode
 * loop where `Buffer.from(data, 'base64').toString()` costs about 0.25x. For ASCII bytes the Latin-1 and
 * the UTF-8 text are the same string.
 */
function asciiText(data: string, expected: number): string | undefined {
  let text: string;
  try {
    text = base64ToLatin1(data);
  } catch {
    // InvalidCharacterError: the strict path names the failure (or decodes the URL-safe alphabet).
    return undefined;
  }
  // atob skips ASCII whitespace, so a text shorter than the length and padding promise was not clean.
  if (text.length !== expected) return undefined;
  // A Latin-1 character ≥ 0x80 takes two UTF-8 bytes: equal lengths mean every byte is ASCII.
  if (utf8Length(text, 'utf8') !== expected) return undefined;
  return text;
}

/** First byte of the KPL aggregate magic; never the first byte of a JSON text. */
const KPL_FIRST_BYTE = 0xf3;
// Scratch for decodeRecordData: base64 is decoded into it instead of allocating a Buffer per record (the
// allocation and its GC showed in the engine profile). Grows on demand up to the largest payload decoded.
let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * `decodeJson(decodeBase64(data))` fused for the per-record hot path, with the same checks and the same
 * failures: base64 is decoded into a reused scratch buffer, and the UTF-8 validation runs only when the
 * decoded text contains U+FFFD (the decoder replaces every malformed sequence with U+FFFD, so a text
 * without it came from valid UTF-8; a text with it is checked strictly, since U+FFFD may also be genuine).
 * A payload starting with the KPL magic's first byte is returned undecoded (a copy) for the KPL path.
 * `maxBytes` is the source's record limit in its own unit: Kinesis' 1 MiB by default; a table source's
 * change is bounded by DynamoDB's item size instead (`MAX_CHANGE_JSON_BYTES`, `tableChange.ts`).
 */
export function decodeRecordData(data: string, maxBytes: number = MAX_RECORD_BYTES): unknown {
  const expected = expectedBase64Bytes(data, maxBytes);
  if (typeof expected !== 'number') return expected;
  if (expected <= maxBytes) {
    const text = asciiText(data, expected);
    if (text !== undefined) return parseJsonText(text);
  }
  const capacity = (data.length / 4) * 3;
  if (scratch.length < capacity)
    scratch = Buffer.allocUnsafe(
      Math.min(Math.max(capacity, scratch.length * 2), (maxBase64Chars(maxBytes) / 4) * 3),
    );
  const n = scratch.write(data, 0, 'base64');
  const failure = decodedLengthFailure(n, expected, maxBytes);
  if (failure !== undefined) return failure;
  if (n === 0) return new PayloadFailure(REJECT_REASONS.EMPTY_RECORD, 'payload is empty');
  if (scratch[0] === KPL_FIRST_BYTE) return new UndecodedPayload(new Uint8Array(scratch.subarray(0, n)));
  const text = scratch.toString('utf8', 0, n);
  if (text.includes('\uFFFD') && !isUtf8(scratch.subarray(0, n)))
    return new PayloadFailure(REJECT_REASONS.INVALID_UTF8, 'payload is not valid UTF-8');
  return parseJsonText(text);
}

/**
 * Decodes bytes as strict UTF-8 (no replacement characters: malformed sequences are rejected) and parses
 * JSON safely: nesting deeper than {@link MAX_JSON_DEPTH} is rejected, and object keys `__proto__` and
 * `constructor` are removed so that no later copy of the value can reach a prototype.
 */
export function decodeJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return new PayloadFailure(REJECT_REASONS.EMPTY_RECORD, 'payload is empty');
  if (bytes.length > MAX_RECORD_BYTES) {
    return new PayloadFailure(
      REJECT_REASONS.OVERSIZE_RECORD,
      `payload exceeds ${MAX_RECORD_BYTES} bytes (${bytes.length} bytes)`,
    );
  }
  // isUtf8 is the same strict validation as TextDecoder('utf-8', { fatal: true }), without the exception.
  if (!isUtf8(bytes)) return new PayloadFailure(REJECT_REASONS.INVALID_UTF8, 'payload is not valid UTF-8');
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return parseJsonText(buf.toString('utf8'));
}

/**
 * Text that may hold a `__proto__` or `constructor` key: spelled out, or with any character written as a
 * JSON `\u` escape (`"\u005f_proto__"` parses to the key `__proto__`), so any escape sends the value
 * through the walk too. One compiled regular expression scan of a
 * ~200-character record costs ~40 ns where two `includes` cost ~100–150 ns (each multi-character
 * `includes` sets up a fresh string search), about 0.05x of the engine bench's bare decode loop.
 */
const DANGEROUS_KEYS = /__proto__|constructor|\\u/;

/** JSON.parse with the depth limit and prototype-key removal of {@link decodeJson}; failures returned. */
function parseJsonText(text: string): unknown {
  let value: unknown;
  try {
    // V8's JSON.parse is iterative, so deep nesting cannot overflow the stack here; depth is checked below.
    value = JSON.parse(text);
  } catch (err) {
    return new PayloadFailure(
      REJECT_REASONS.INVALID_JSON,
      `payload is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof value !== 'object' || value === null) return value;
  if (flatObject(text)) {
    // The value is the text's only object and holds no other: its own keys are all there is to screen
    // (JSON.parse has already decoded any `\u` escape in them), and it cannot be too deep.
    if (hasOwn(value, '__proto__')) delete (value as Record<string, unknown>)['__proto__'];
    if (hasOwn(value, 'constructor')) delete (value as Record<string, unknown>)['constructor'];
    return value;
  }
  const dangerousKeys = DANGEROUS_KEYS.test(text);
  // Depth can only exceed the limit if there are more than MAX_JSON_DEPTH opening brackets; counting
  // them with indexOf (native, vectorised) is much cheaper than walking the parsed value.
  if (!dangerousKeys && fewOpenings(text)) return value;
  if (!sanitize(value, 1, dangerousKeys)) {
    return new PayloadFailure(
      REJECT_REASONS.TOO_DEEPLY_NESTED,
      `JSON nesting is deeper than ${MAX_JSON_DEPTH}`,
    );
  }
  return value;
}

const hasOwn = Object.hasOwn;

/**
 * True when `text` has exactly one `{` and no `[`: every object or array of a parsed JSON value comes
 * from one of those characters, so the parsed value (an object) holds no other object or array. Two
 * native `indexOf` scans; a `{` or `[` inside a string only sends the value the long way (regular
 * expression and walk), which costs ~0.1x of the bench's bare decode loop for ~200-byte records.
 */
function flatObject(text: string): boolean {
  const first = text.indexOf('{');
  return first !== -1 && text.indexOf('{', first + 1) === -1 && text.indexOf('[') === -1;
}

/** True when `text` has at most MAX_JSON_DEPTH `{` plus `[` characters (so nesting cannot be deeper). */
function fewOpenings(text: string): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1))
    if (++n > MAX_JSON_DEPTH) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1))
    if (++n > MAX_JSON_DEPTH) return false;
  return true;
}

/** Walks a parsed value: false when deeper than the limit; removes dangerous keys when asked. */
function sanitize(value: object, depth: number, dangerousKeys: boolean): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const v of value)
      if (typeof v === 'object' && v !== null && !sanitize(v, depth + 1, dangerousKeys)) return false;
    return true;
  }
  const obj = value as Record<string, unknown>;
  if (dangerousKeys) {
    if (Object.prototype.hasOwnProperty.call(obj, '__proto__')) delete obj['__proto__'];
    if (Object.prototype.hasOwnProperty.call(obj, 'constructor')) delete obj['constructor'];
  }
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'object' && v !== null && !sanitize(v, depth + 1, dangerousKeys)) return false;
  }
  return true;
}
