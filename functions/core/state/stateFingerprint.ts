/**
 * The state shape of a pipeline: the part of its definition that decides what stored window state means —
 * the key column, the window (kind and sizes), each aggregate's column, kind and state parameters, and
 * whether dedupe ids are kept. Its fingerprint (64 bits of the SHA-256 of the shape's canonical JSON) is
 * stored with every segment and progress item a commit writes, so state written under one definition is
 * never merged under another that reads it differently.
 *
 * User functions (map, filter, key and aggregate inputs) are not part of it: their source text is not a
 * stable identity (bundlers rename, whitespace moves). A changed input function under the same column,
 * kind and parameters is therefore a compatible change; rename the column to make it a new one.
 */
import { createHash } from 'node:crypto';
import type { Json, WindowSpec } from '../types';

/** Version of the shape format itself (bump it when what the shape covers changes). */
export const STATE_SHAPE_VERSION = 1;

/** Hex digits of a fingerprint (64 bits). */
export const FINGERPRINT_HEX = 16;

/** One aggregate's part of the shape. */
export interface AggregateShape {
  readonly column: string;
  readonly kind: string;
  /** Parameters that shape the stored state (e.g. top-k's k, the sketch's accuracy); `{}` when none. */
  readonly params: Readonly<Record<string, Json>>;
}

/** What shapes a pipeline's stored state. */
export interface StateShape {
  readonly version: typeof STATE_SHAPE_VERSION;
  /** The key column; null for a publish-only pipeline (it keeps no window state). */
  readonly key: string | null;
  /** The windows; null for a publish-only pipeline. */
  readonly window: WindowSpec | null;
  /** Whether commits keep dedupe id hashes (`dedupeBy`). */
  readonly dedupe: boolean;
  /** Sorted by column: column order does not shape state (states are keyed by column). */
  readonly aggregates: readonly AggregateShape[];
}

/** The slice of a pipeline definition the shape is read from. */
export interface ShapedDefinition {
  readonly keyColumn?: string | undefined;
  readonly spec: { readonly window?: WindowSpec | undefined };
  readonly dedupeBy: unknown;
  readonly aggregates: readonly {
    readonly column: string;
    readonly aggregate: { readonly kind: string; readonly params?: Readonly<Record<string, Json>> };
  }[];
}

/** The state shape of a definition. */
export function stateShapeOf(def: ShapedDefinition): StateShape {
  const w = def.spec.window;
  const window: WindowSpec | null =
    w === undefined
      ? null
      : w.kind === 'tumbling'
        ? { kind: 'tumbling', sizeMs: w.sizeMs }
        : w.kind === 'sliding'
          ? { kind: 'sliding', sizeMs: w.sizeMs, slideMs: w.slideMs }
          : { kind: 'session', gapMs: w.gapMs };
  return {
    version: STATE_SHAPE_VERSION,
    key: def.keyColumn ?? null,
    window,
    dedupe: def.dedupeBy !== undefined,
    aggregates: def.aggregates
      .map(({ column, aggregate }) => ({ column, kind: aggregate.kind, params: aggregate.params ?? {} }))
      .sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0)),
  };
}

/** JSON with object keys in code-unit order at every level: equal values give equal text in every process. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
}

/** The stored text of a shape (canonical JSON). */
export function shapeText(shape: StateShape): string {
  return canonicalJson(shape as unknown as Json);
}

/** The fingerprint of a shape: 16 hex digits of the SHA-256 of its canonical JSON. */
export function stateFingerprint(shape: StateShape): string {
  return createHash('sha256').update(shapeText(shape)).digest('hex').slice(0, FINGERPRINT_HEX);
}

/** Whether `text` has the form of a fingerprint. */
export function isFingerprint(text: string): boolean {
  return text.length === FINGERPRINT_HEX && /^[0-9a-f]+$/.test(text);
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isDuration = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function windowOf(value: unknown): WindowSpec | undefined {
  if (!isObject(value)) return undefined;
  if (value.kind === 'tumbling' && isDuration(value.sizeMs))
    return { kind: 'tumbling', sizeMs: value.sizeMs };
  if (value.kind === 'sliding' && isDuration(value.sizeMs) && isDuration(value.slideMs))
    return { kind: 'sliding', sizeMs: value.sizeMs, slideMs: value.slideMs };
  if (value.kind === 'session' && isDuration(value.gapMs)) return { kind: 'session', gapMs: value.gapMs };
  return undefined;
}

/**
 * Reads a stored shape (hostile text); undefined when it is not one of this version, or when its text is
 * not the canonical form of what it holds (so its fingerprint is the one it is stored under).
 */
export function parseStateShape(text: string): StateShape | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value) || value.version !== STATE_SHAPE_VERSION) return undefined;
  // A publish-only pipeline's shape has neither key nor window; any other has both.
  const publishOnly = value.key === null && value.window === null;
  if (!publishOnly && !isName(value.key)) return undefined;
  const window = publishOnly ? null : windowOf(value.window);
  if (window === undefined || typeof value.dedupe !== 'boolean' || !Array.isArray(value.aggregates))
    return undefined;
  const aggregates: AggregateShape[] = [];
  for (const entry of value.aggregates as unknown[]) {
    if (!isObject(entry) || !isName(entry.column) || !isName(entry.kind) || !isObject(entry.params))
      return undefined;
    aggregates.push({
      column: entry.column,
      kind: entry.kind,
      params: entry.params as Record<string, Json>,
    });
  }
  const shape: StateShape = {
    version: STATE_SHAPE_VERSION,
    key: publishOnly ? null : (value.key as string),
    window,
    dedupe: value.dedupe,
    aggregates,
  };
  return shapeText(shape) === text ? shape : undefined;
}

/** The three kinds of change of a definition under stored state. */
export const STATE_CHANGE = {
  /** Same shape: the stored state means the same (e.g. a changed filter or map). */
  COMPATIBLE: 'compatible',
  /** Aggregate columns added only: open windows start them from their identity, and their rows say so. */
  EVOLVABLE: 'evolvable',
  /** The window, key, dedupe or an existing aggregate changed or was removed: stored state cannot be read. */
  INCOMPATIBLE: 'incompatible',
} as const;
export type StateChangeKind = (typeof STATE_CHANGE)[keyof typeof STATE_CHANGE];

/** How a new definition relates to state stored under an old one. */
export interface StateChange {
  readonly kind: StateChangeKind;
  /** Aggregate columns the new definition adds (they start from their identity in open windows). */
  readonly added: readonly string[];
  /** Why the change is incompatible, one line each (empty unless incompatible). */
  readonly reasons: readonly string[];
}

function describeWindow(window: WindowSpec | null): string {
  if (window === null) return 'none (publish-only)';
  if (window.kind === 'tumbling') return `tumbling ${window.sizeMs} ms`;
  if (window.kind === 'sliding') return `sliding ${window.sizeMs} ms every ${window.slideMs} ms`;
  return `session gap ${window.gapMs} ms`;
}

/** Classifies a change from the shape stored state was written under (`stored`) to `next`. */
export function classifyStateChange(stored: StateShape, next: StateShape): StateChange {
  if (shapeText(stored) === shapeText(next)) return { kind: STATE_CHANGE.COMPATIBLE, added: [], reasons: [] };
  const reasons: string[] = [];
  if (stored.key !== next.key)
    reasons.push(`key column changed from ${stored.key ?? '(none)'} to ${next.key ?? '(none)'}`);
  if (canonicalJson(stored.window as unknown as Json) !== canonicalJson(next.window as unknown as Json))
    reasons.push(`window changed from ${describeWindow(stored.window)} to ${describeWindow(next.window)}`);
  if (stored.dedupe !== next.dedupe)
    reasons.push(stored.dedupe ? 'dedupeBy was removed' : 'dedupeBy was added');
  const nextByColumn = new Map(next.aggregates.map((a) => [a.column, a]));
  for (const old of stored.aggregates) {
    const now = nextByColumn.get(old.column);
    if (now === undefined) reasons.push(`aggregate ${old.column} was removed`);
    else if (now.kind !== old.kind)
      reasons.push(`aggregate ${old.column} changed from ${old.kind} to ${now.kind}`);
    else if (canonicalJson(now.params) !== canonicalJson(old.params))
      reasons.push(
        `aggregate ${old.column} (${old.kind}) changed its parameters from ${canonicalJson(old.params)} to ${canonicalJson(now.params)}`,
      );
  }
  const storedColumns = new Set(stored.aggregates.map((a) => a.column));
  const added = next.aggregates.map((a) => a.column).filter((c) => !storedColumns.has(c));
  return reasons.length > 0
    ? { kind: STATE_CHANGE.INCOMPATIBLE, added, reasons }
    : { kind: STATE_CHANGE.EVOLVABLE, added, reasons: [] };
}

/** A definition's state shape and its fingerprint. */
export interface StateReader {
  readonly stateShape: StateShape;
  readonly stateFingerprint: string;
}

/**
 * Whether `definition` reads state written under fingerprint `fingerprint`: the one rule of the close pass
 * (`stateShapeGuard.ts`, which refuses what is incompatible) and the upgrade gate (`upgradeCheck.ts`, which
 * names the worst change of the open state). The same fingerprint is compatible; another is classified from
 * its registered shape in `shapes`; state without a fingerprint, or under one no readable registered shape
 * has, is incompatible (its reason says which).
 */
export function changeFromFingerprint(
  fingerprint: string | undefined,
  shapes: ReadonlyMap<string, StateShape | undefined> | undefined,
  definition: StateReader,
): StateChange {
  if (fingerprint === definition.stateFingerprint)
    return { kind: STATE_CHANGE.COMPATIBLE, added: [], reasons: [] };
  const stored = fingerprint === undefined ? undefined : shapes?.get(fingerprint);
  if (stored !== undefined) return classifyStateChange(stored, definition.stateShape);
  return {
    kind: STATE_CHANGE.INCOMPATIBLE,
    added: [],
    reasons: [
      fingerprint === undefined
        ? 'state without a fingerprint (written before fingerprints were)'
        : `state of fingerprint ${fingerprint}, which no readable registered shape has`,
    ],
  };
}
