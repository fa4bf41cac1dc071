/**
 * The stored form of a savepoint (`shardflow savepoint`, `shardflow restore`), version 1. A savepoint is two
 * objects under one prefix:
 *
 * - `state.jsonl.gz`: gzip of JSON Lines, one state item a line, exactly as the state table holds it, in
 *   DynamoDB's attribute-value shape (`{"S": …}`, `{"N": …}`, `{"BOOL": …}`, `{"NULL": true}`), binary
 *   values as base64 (`{"B": "<base64>"}`). Lines are in key order: the pipeline's progress partition
 *   (`P#<pipeline>`: `#pipeline`, `#shape#<fp>`, `S#<shard>`), then each shard's committed segment chunks
 *   (`C#<pipeline>#<shard>`, `<commit>#<attempt>#<chunk>`).
 * - `manifest.json`: what the savepoint is (format, version, pipeline, stream, when, the definition's
 *   fingerprint, each shard's position) and the SHA-256 and item count of `state.jsonl.gz`. Written last:
 *   a prefix without a manifest holds no savepoint.
 *
 * Both are read as hostile: `parseManifest` and `decodeSavepointItems` refuse anything that is not exactly
 * this format (`SavepointInvalidError`, one line).
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { StateError } from './errors';
import { isFingerprint } from './stateFingerprint';
import { PK, SK, type AttributeValue, type StateItem } from './stateItems';

export const SAVEPOINT_FORMAT = 'shardflow-savepoint';
export const SAVEPOINT_VERSION = 1;
/** Object names under a savepoint's prefix. */
export const SAVEPOINT_MANIFEST = 'manifest.json';
export const SAVEPOINT_ITEMS = 'state.jsonl.gz';

/** A savepoint that cannot be read: not this format, a newer version, or a checksum that does not match. */
export class SavepointInvalidError extends StateError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SavepointInvalidError';
  }
}

/** Where a shard stood at the cut: every record at or below `lastSequence` is in the saved state. */
export interface SavedShard {
  readonly shardId: string;
  /** Zero-padded sequence number of the shard's last applied record. */
  readonly lastSequence: string;
  readonly commits: number;
  readonly closed: boolean;
}

export interface SavepointManifest {
  readonly format: typeof SAVEPOINT_FORMAT;
  readonly version: typeof SAVEPOINT_VERSION;
  readonly pipeline: string;
  /** The source stream the shard positions are positions in. */
  readonly stream: string;
  /** When that stream was created (epoch ms): a stream of the same name created later is another one. */
  readonly streamCreatedAt: number;
  /** When the cut was read (epoch ms). */
  readonly takenAt: number;
  /** State fingerprint of the definition the savepoint was taken with. */
  readonly definitionFingerprint: string;
  /** Fingerprints the saved state was written under (shard items and registered shapes), sorted. */
  readonly fingerprints: readonly string[];
  readonly shards: readonly SavedShard[];
  /**
   * A new mapping started at or before this arrival time (`AT_TIMESTAMP`, epoch ms) misses no record the
   * savepoint lacks; null when a shard has applied nothing (start at the trim horizon).
   */
  readonly resumeAt: number | null;
  /** Windows (session buckets) some shard holds state for that are not emitted yet. */
  readonly openWindows: number;
  readonly items: {
    readonly count: number;
    readonly segmentChunks: number;
    /** Bytes of `state.jsonl.gz` and their SHA-256 (hex). */
    readonly bytes: number;
    readonly sha256: string;
  };
}

/** Most bytes one line can hold: a 400 KB item in base64, with its JSON. */
const MAX_LINE_BYTES = 600_000;

const sha256 = (body: Uint8Array): string => createHash('sha256').update(body).digest('hex');

/** One item as a savepoint line (its JSON, binary values as base64). */
export function savepointItemLine(item: StateItem): string {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item))
    out[name] = 'B' in value ? { B: Buffer.from(value.B).toString('base64') } : value;
  return JSON.stringify(out);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** One attribute value of a line; undefined when it is not exactly one of the five kinds items use. */
function valueOf(raw: unknown): AttributeValue | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const entries = Object.entries(raw);
  if (entries.length !== 1) return undefined;
  const [kind, v] = entries[0]!;
  if (kind === 'S' && typeof v === 'string') return { S: v };
  if (kind === 'N' && typeof v === 'string' && NUMBER.test(v)) return { N: v };
  if (kind === 'B' && typeof v === 'string' && v.length % 4 === 0 && BASE64.test(v))
    return { B: Buffer.from(v, 'base64') };
  if (kind === 'BOOL' && typeof v === 'boolean') return { BOOL: v };
  if (kind === 'NULL' && v === true) return { NULL: true };
  return undefined;
}

function itemFromLine(line: string, index: number): StateItem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new SavepointInvalidError(`Savepoint line ${index + 1} is not JSON`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SavepointInvalidError(`Savepoint line ${index + 1} is not an item`);
  const item: Record<string, AttributeValue> = {};
  for (const [name, raw] of Object.entries(parsed)) {
    const value = valueOf(raw);
    if (value === undefined)
      throw new SavepointInvalidError(`Savepoint line ${index + 1}: attribute ${name} is not an item value`);
    item[name] = value;
  }
  for (const key of [PK, SK])
    if (item[key] === undefined || !('S' in item[key]))
      throw new SavepointInvalidError(`Savepoint line ${index + 1} has no ${key}`);
  return item;
}

/** The `state.jsonl.gz` body of `items`, with its SHA-256. */
export function encodeSavepointItems(items: readonly StateItem[]): {
  readonly body: Buffer;
  readonly sha256: string;
} {
  const body = gzipSync(items.map((item) => `${savepointItemLine(item)}\n`).join(''));
  return { body, sha256: sha256(body) };
}

/** The items of a `state.jsonl.gz` body, once its size, SHA-256 and item count match `manifest`. */
export function decodeSavepointItems(body: Uint8Array, manifest: SavepointManifest): StateItem[] {
  if (body.byteLength !== manifest.items.bytes || sha256(body) !== manifest.items.sha256)
    throw new SavepointInvalidError(
      `${SAVEPOINT_ITEMS} does not match its manifest's checksum (${body.byteLength} bytes): the savepoint is damaged or incomplete; take another one`,
    );
  let text: string;
  try {
    // At most what the declared items can take (400 KB each, base64 and JSON around them): no gzip bomb.
    text = gunzipSync(body, {
      maxOutputLength: Math.min(constants.MAX_STRING_LENGTH, (manifest.items.count + 1) * MAX_LINE_BYTES),
    }).toString('utf8');
  } catch (error) {
    throw new SavepointInvalidError(
      `${SAVEPOINT_ITEMS} is not gzip, or unpacks to more than its ${manifest.items.count} items can hold`,
      { cause: error },
    );
  }
  const lines = text.split('\n');
  if (lines.pop() !== '')
    throw new SavepointInvalidError(`${SAVEPOINT_ITEMS} does not end with a line break`);
  if (lines.length !== manifest.items.count)
    throw new SavepointInvalidError(
      `${SAVEPOINT_ITEMS} holds ${lines.length} items, its manifest says ${manifest.items.count}`,
    );
  return lines.map(itemFromLine);
}

/** The manifest's text (pretty JSON: it is meant to be read). */
export function manifestText(manifest: SavepointManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024;

/** Reads a manifest (hostile text). */
export function parseManifest(text: string): SavepointManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (error) {
    throw new SavepointInvalidError(`${SAVEPOINT_MANIFEST} is not JSON`, { cause: error });
  }
  if (!isObject(m) || m.format !== SAVEPOINT_FORMAT)
    throw new SavepointInvalidError(`${SAVEPOINT_MANIFEST} is not a ${SAVEPOINT_FORMAT} manifest`);
  if (m.version !== SAVEPOINT_VERSION)
    throw new SavepointInvalidError(
      `The savepoint is format version ${String(m.version)}; this shardflow reads version ${SAVEPOINT_VERSION}: restore it with the shardflow that took it`,
    );
  const { items } = m;
  const valid =
    isName(m.pipeline) &&
    isName(m.stream) &&
    isCount(m.streamCreatedAt) &&
    isCount(m.takenAt) &&
    typeof m.definitionFingerprint === 'string' &&
    isFingerprint(m.definitionFingerprint) &&
    Array.isArray(m.fingerprints) &&
    m.fingerprints.every((f) => typeof f === 'string' && isFingerprint(f)) &&
    Array.isArray(m.shards) &&
    m.shards.every(
      (s) =>
        isObject(s) &&
        isName(s.shardId) &&
        typeof s.lastSequence === 'string' &&
        /^\d+$/.test(s.lastSequence) &&
        isCount(s.commits) &&
        typeof s.closed === 'boolean',
    ) &&
    isCount(m.openWindows) &&
    (m.resumeAt === null || isCount(m.resumeAt)) &&
    isObject(items) &&
    isCount(items.count) &&
    isCount(items.segmentChunks) &&
    isCount(items.bytes) &&
    typeof items.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(items.sha256);
  if (!valid)
    throw new SavepointInvalidError(`${SAVEPOINT_MANIFEST} is missing a field or has one of the wrong type`);
  const shards = (m.shards as Record<string, unknown>[]).map((s) => ({
    shardId: s.shardId as string,
    lastSequence: s.lastSequence as string,
    commits: s.commits as number,
    closed: s.closed as boolean,
  }));
  const it = items as Record<string, number | string>;
  return {
    format: SAVEPOINT_FORMAT,
    version: SAVEPOINT_VERSION,
    pipeline: m.pipeline as string,
    stream: m.stream as string,
    streamCreatedAt: m.streamCreatedAt as number,
    takenAt: m.takenAt as number,
    definitionFingerprint: m.definitionFingerprint as string,
    fingerprints: m.fingerprints as string[],
    shards,
    openWindows: m.openWindows as number,
    resumeAt: m.resumeAt as number | null,
    items: {
      count: it.count as number,
      segmentChunks: it.segmentChunks as number,
      bytes: it.bytes as number,
      sha256: it.sha256 as string,
    },
  };
}
