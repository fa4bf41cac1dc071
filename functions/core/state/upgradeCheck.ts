/**
 * What a redeploy would do to a pipeline's open state (`stateFingerprint.ts`): the windows still open, the
 * shapes their state was written under, and the change from each to the new definition. A deploy refuses an
 * incompatible (or unknown) change while windows are open unless the user chose what happens to them
 * (`--discard-open-windows`, or `-c shardflow:openWindows=discard` for plain `cdk deploy`; or `--drain`:
 * emitted under the deployed definition first, `drain.ts`, which `shardflow deploy` carries out before it
 * calls the gate); `discardOpenWindows` carries the discard out. `upgradeGate` is the one rule both deploy
 * paths run: the `shardflow deploy` pre-check and the stack's upgrade-check custom resource.
 */
import { StateConflictError } from './errors';
import { changeFromFingerprint, STATE_CHANGE, type StateChange, type StateShape } from './stateFingerprint';
import { emittedEndOf } from './pendingWindows';
import type { ProgressSnapshot, ShardProgress, StateStore } from './types';

/** The slice of the new definition a check needs. */
export interface UpgradeTarget {
  readonly spec: {
    readonly name: string;
    /** Absent for a publish-only pipeline. */
    readonly window?: { readonly kind: string } | undefined;
    readonly time: { readonly allowedLatenessMs: number };
  };
  readonly stateShape: StateShape;
  readonly stateFingerprint: string;
}

/** What a redeploy of one pipeline would do to its open state. */
export interface UpgradeCheck {
  readonly pipeline: string;
  /** Distinct windows (session buckets) some shard holds state for that are not emitted yet. */
  readonly openWindows: number;
  /**
   * The worst change from a shape the open state was written under to the new one; compatible when
   * nothing is open. Unknown shapes (no fingerprint, or one nobody registered) are incompatible.
   */
  readonly change: StateChange;
}

const COMPATIBLE: StateChange = { kind: STATE_CHANGE.COMPATIBLE, added: [], reasons: [] };
const RANK = { [STATE_CHANGE.COMPATIBLE]: 0, [STATE_CHANGE.EVOLVABLE]: 1, [STATE_CHANGE.INCOMPATIBLE]: 2 };

/** The pending windows of `shard` still open, by the rule of the definition that wrote them. */
function openPending(
  shard: ShardProgress,
  snapshot: ProgressSnapshot,
  next: UpgradeTarget,
): ShardProgress['pending'] {
  const emitted = emittedEndOf(snapshot.pipeline, next.spec.time.allowedLatenessMs);
  const floor = snapshot.pipeline?.sessionFloor ?? -Infinity;
  const stored = shard.shape === undefined ? undefined : snapshot.shapes?.get(shard.shape);
  // Session buckets stay open until the session floor passes them, fixed windows until emitted: the
  // registered shape of the definition that wrote them says which; when unknown, open under either rule.
  const kind = shard.shape === next.stateFingerprint ? next.spec.window?.kind : stored?.window?.kind;
  return shard.pending.filter((w) =>
    kind === 'session'
      ? w.end > floor
      : kind !== undefined
        ? w.end > emitted
        : w.end > Math.min(floor, emitted),
  );
}

/**
 * Checks `next` against the open state of `snapshot` (its pipeline's progress partition). A shard item
 * names the shape of its last commit only; `segmentShapes` (by shard id) adds the shapes of the segments its
 * open windows span, which a commit of an older definition after a discard can make differ.
 */
export function checkUpgrade(
  snapshot: ProgressSnapshot,
  next: UpgradeTarget,
  segmentShapes?: ReadonlyMap<string, ReadonlySet<string | undefined>>,
): UpgradeCheck {
  const open = new Set<string>();
  let change = COMPATIBLE;
  for (const shard of snapshot.shards) {
    const pending = openPending(shard, snapshot, next);
    if (pending.length === 0) continue;
    for (const w of pending) open.add(`${w.start}-${w.end}`);
    const shapes = new Set([shard.shape, ...(segmentShapes?.get(shard.shardId) ?? [])]);
    for (const shape of shapes) {
      const found = changeFromFingerprint(shape, snapshot.shapes, next);
      if (RANK[found.kind] > RANK[change.kind]) change = found;
      else if (found.kind === change.kind && found.kind !== STATE_CHANGE.COMPATIBLE)
        change = {
          kind: change.kind,
          added: [...new Set([...change.added, ...found.added])],
          reasons: [...new Set([...change.reasons, ...found.reasons])],
        };
    }
  }
  return { pipeline: next.spec.name, openWindows: open.size, change };
}

/** The shapes of the segments each shard's open windows span (`checkUpgrade`'s `segmentShapes`). */
export async function openSegmentShapes(
  store: StateStore,
  snapshot: ProgressSnapshot,
  next: UpgradeTarget,
): Promise<Map<string, Set<string | undefined>>> {
  const out = new Map<string, Set<string | undefined>>();
  for (const shard of snapshot.shards) {
    const pending = openPending(shard, snapshot, next);
    if (pending.length === 0) continue;
    const from = Math.min(...pending.map((w) => w.firstCommit));
    const segments = await store.readSegments(shard, from, shard.commits);
    out.set(shard.shardId, new Set(segments.map((segment) => segment.shape)));
  }
  return out;
}

/** What the user chose to do with open windows a change cannot carry over. */
export const OPEN_WINDOW_CHOICE = { NONE: 'none', DISCARD: 'discard-open-windows', DRAIN: 'drain' } as const;
export type OpenWindowChoice = (typeof OPEN_WINDOW_CHOICE)[keyof typeof OPEN_WINDOW_CHOICE];

/** The CDK context key (and `ShardflowPipeline` prop) that states the choice for plain `cdk deploy`. */
export const OPEN_WINDOWS_CONTEXT = 'shardflow:openWindows';

/** How the user states the choice, by the way they deploy: the refusal's next step names it. */
export const CHOICE_HINT = {
  /** `shardflow deploy` (and `deploy --local`). */
  CLI: 'deploy again with --drain to emit them under the deployed definition first, or with --discard-open-windows to drop them',
  /** Plain `cdk deploy` of the app (the stack's upgrade-check custom resource). */
  CDK: `deploy again with -c ${OPEN_WINDOWS_CONTEXT}=discard to drop them, or with shardflow deploy --drain to emit them first`,
} as const;
export type ChoiceHint = (typeof CHOICE_HINT)[keyof typeof CHOICE_HINT];

/** One line saying why a deploy must not go ahead, with the next step; undefined when it may. */
export function upgradeRefusal(
  check: UpgradeCheck,
  choice: OpenWindowChoice,
  hint: ChoiceHint = CHOICE_HINT.CLI,
): string | undefined {
  if (check.change.kind !== STATE_CHANGE.INCOMPATIBLE || check.openWindows === 0) return undefined;
  // A drain has happened before the gate runs (`shardflow deploy --drain`): windows still open refuse.
  if (choice === OPEN_WINDOW_CHOICE.DISCARD) return undefined;
  return `pipeline ${check.pipeline}: incompatible change under ${check.openWindows} open window${check.openWindows === 1 ? '' : 's'} (${check.change.reasons.join('; ')}); wait until they close, or ${hint}`;
}

/**
 * Drops the open windows of every shard of `pipeline` (their pending lists; the segments expire with their
 * TTL): nothing of them is emitted. Each shard's item is rewritten conditioned on its version, read again
 * after a lost race (a batch committed meanwhile, whose windows are dropped too). Run it while nothing
 * consumes the stream: a batch committed after it under the old definition opens windows again.
 * Returns how many shard items were rewritten.
 */
export async function discardOpenWindows(store: StateStore, pipeline: string): Promise<number> {
  let rewritten = 0;
  for (let attempt = 1; ; attempt++) {
    const snapshot = await store.readProgress(pipeline);
    const holding = snapshot.shards.filter((s) => s.pending.length > 0);
    try {
      for (const shard of holding) {
        await store.commit({
          progress: { ...shard, pending: [], version: shard.version + 1 },
          expectedVersion: shard.version,
        });
        rewritten += 1;
      }
      return rewritten;
    } catch (error) {
      if (!(error instanceof StateConflictError) || attempt >= 8) throw error;
    }
  }
}

/** What the gate decided for one pipeline: refused (one line, with the next step), or passed (what it did). */
export type UpgradeGateResult =
  { readonly passed: false; readonly refusal: string } | { readonly passed: true; readonly line: string };

/**
 * The gate a deploy passes before the new definition's functions run: checks `next` against its pipeline's
 * open state in `store`, refuses an incompatible change under open windows unless the user chose to discard
 * them, and then discards them. Says in one line what the deploy does to the open state.
 */
export async function upgradeGate(
  store: StateStore,
  next: UpgradeTarget,
  choice: OpenWindowChoice,
  hint: ChoiceHint = CHOICE_HINT.CLI,
): Promise<UpgradeGateResult> {
  const name = next.spec.name;
  const snapshot = await store.readProgress(name);
  const check = checkUpgrade(snapshot, next, await openSegmentShapes(store, snapshot, next));
  const refusal = upgradeRefusal(check, choice, hint);
  if (refusal !== undefined) return { passed: false, refusal };
  const { kind, added, reasons } = check.change;
  if (kind === STATE_CHANGE.INCOMPATIBLE && check.openWindows > 0) {
    const shards = await discardOpenWindows(store, name);
    return {
      passed: true,
      line: `${name}: incompatible (${reasons.join('; ')}); discarded ${check.openWindows} open windows on ${shards} shards`,
    };
  }
  if (kind === STATE_CHANGE.EVOLVABLE)
    return {
      passed: true,
      line: `${name}: evolvable; ${added.join(', ')} start from their identity in ${check.openWindows} open windows (named in evolved_columns)`,
    };
  return {
    passed: true,
    line: `${name}: ${check.openWindows === 0 ? 'no open windows' : `compatible with ${check.openWindows} open windows`}`,
  };
}

/**
 * The upgrade target of a definition known only by its serialised parts (as a deployment carries them):
 * its pipeline name, state shape and fingerprint, and allowed lateness (the fallback of the emitted rule for
 * items written before `emittedEnd`, `pendingWindows.ts`).
 */
export function upgradeTargetOf(definition: {
  readonly pipeline: string;
  readonly stateShape: StateShape;
  readonly stateFingerprint: string;
  readonly allowedLatenessMs: number;
}): UpgradeTarget {
  return {
    spec: {
      name: definition.pipeline,
      ...(definition.stateShape.window === null
        ? {}
        : { window: { kind: definition.stateShape.window.kind } }),
      time: { allowedLatenessMs: definition.allowedLatenessMs },
    },
    stateShape: definition.stateShape,
    stateFingerprint: definition.stateFingerprint,
  };
}
