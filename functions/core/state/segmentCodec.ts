/**
 * The stored form of a segment's content: what one commit adds to each window (every key's partial state),
 * and the dedupe id hashes it applied. Layout (version 1):
 *
 *   byte 0          format version (1)
 *   bytes 1–4       length n of the compressed part (uint32, big endian)
 *   bytes 5…5+n     raw DEFLATE of the JSON `[[start, end, [[key, records, state], …]], …]`
 *   the rest        dedupe hashes, 8 bytes each
 *
 * JSON keeps aggregate states exact (they are JSON already) and DEFLATE (node:zlib, no dependency) shrinks
 * the repeated structure 3–5×; the hashes are random, so they are stored as they are. Decoding treats the
 * bytes as hostile: any shape other than this one is a `StateItemInvalidError`.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Json } from '../types';
import { StateItemInvalidError } from './errors';
import { DEDUPE_HASH_BYTES } from './keys';
import type { KeyPartial, SegmentContent, WindowContribution } from './types';
import { InvalidOptionError } from '../errors';

const FORMAT_VERSION = 1;
const HEADER_BYTES = 5;
const HASH_BYTES = DEDUPE_HASH_BYTES;
/** A dedupe hash as `dedupeHash` gives it: its bytes as Latin-1 characters. */
const LATIN1_HASH = new RegExp(`^[\\x00-\\xff]{${DEDUPE_HASH_BYTES}}$`);
/** Largest inflated JSON accepted (a segment holds at most a 4 MB transaction of compressed state). */
const MAX_INFLATED_BYTES = 256 * 1024 * 1024;

/** Encodes a segment's content. */
export function encodeSegment(content: SegmentContent): Uint8Array {
  const windows = content.windows.map((w) => [
    w.window.start,
    w.window.end,
    w.partials.map((p) =>
      p.session === undefined
        ? [p.key, p.records, p.state]
        : [p.key, p.records, p.state, p.session.start, p.session.end],
    ),
  ]);
  const compressed = deflateRawSync(Buffer.from(JSON.stringify(windows), 'utf8'));
  const out = Buffer.alloc(HEADER_BYTES + compressed.length + content.dedupeHashes.length * HASH_BYTES);
  out.writeUInt8(FORMAT_VERSION, 0);
  out.writeUInt32BE(compressed.length, 1);
  compressed.copy(out, HEADER_BYTES);
  let offset = HEADER_BYTES + compressed.length;
  for (const hash of content.dedupeHashes) {
    if (!LATIN1_HASH.test(hash))
      throw new InvalidOptionError(
        `Dedupe hashes must be ${DEDUPE_HASH_BYTES} Latin-1 characters (the bytes of dedupeHash)`,
      );
    out.write(hash, offset, 'latin1');
    offset += HASH_BYTES;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function invalid(what: string): never {
  throw new StateItemInvalidError(`Segment body ${what}`);
}

function isWindowBound(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function toPartial(entry: unknown): KeyPartial {
  if (!Array.isArray(entry) || (entry.length !== 3 && entry.length !== 5))
    invalid('holds a partial that is not [key, records, state(, start, end)]');
  const [key, records, state, start, end] = entry as [unknown, unknown, unknown, unknown, unknown];
  if (typeof key !== 'string' || key.length === 0) invalid('holds a partial without a key');
  if (typeof records !== 'number' || !Number.isSafeInteger(records) || records < 0)
    invalid('holds a bad record count');
  if (typeof state !== 'object' || state === null || Array.isArray(state))
    invalid('holds a state that is not an object');
  if (entry.length === 3) return { key, records, state: state as Record<string, Json> };
  if (!isWindowBound(start) || !isWindowBound(end) || end <= start) invalid('holds bad session bounds');
  return { key, records, state: state as Record<string, Json>, session: { start, end } };
}

/** Decodes what {@link encodeSegment} wrote. */
export function decodeSegment(body: Uint8Array): SegmentContent {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length < HEADER_BYTES || bytes.readUInt8(0) !== FORMAT_VERSION) invalid('has an unknown format');
  const length = bytes.readUInt32BE(1);
  if (HEADER_BYTES + length > bytes.length || (bytes.length - HEADER_BYTES - length) % HASH_BYTES !== 0) {
    invalid('has a bad length');
  }
  let parsed: unknown;
  try {
    const json = inflateRawSync(bytes.subarray(HEADER_BYTES, HEADER_BYTES + length), {
      maxOutputLength: MAX_INFLATED_BYTES,
    });
    parsed = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new StateItemInvalidError('Segment body is not compressed JSON', { cause: error });
  }
  if (!Array.isArray(parsed)) invalid('is not a list of windows');
  const windows: WindowContribution[] = (parsed as unknown[]).map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 3)
      invalid('holds a window that is not [start, end, partials]');
    const [start, end, partials] = entry as [unknown, unknown, unknown];
    if (!isWindowBound(start) || !isWindowBound(end) || end <= start) invalid('holds bad window bounds');
    if (!Array.isArray(partials)) invalid('holds a window without partials');
    return { window: { start, end }, partials: partials.map(toPartial) };
  });
  const dedupeHashes: string[] = [];
  for (let offset = HEADER_BYTES + length; offset < bytes.length; offset += HASH_BYTES) {
    dedupeHashes.push(bytes.toString('latin1', offset, offset + HASH_BYTES));
  }
  return { windows, dedupeHashes };
}

/** The windows of a segment without its partials' keys and states (what a close pass looks at first). */
export function segmentWindows(content: SegmentContent): readonly WindowContribution['window'][] {
  return content.windows.map((w) => w.window);
}
