/**
 * The state-shape rule of the apply path (`stateFingerprint.ts`): a writer registers its definition's shape
 * before it commits state under that fingerprint, and a close pass merges a segment only when the running
 * definition reads its shape (`changeFromFingerprint`, the rule the upgrade gate applies too) — the same
 * fingerprint, or a registered shape the running one evolved from (aggregate columns added only). Anything
 * else — an incompatible shape, a fingerprint nobody registered, a segment without one — is refused with
 * `IncompatibleStateError` and counted, never merged.
 */
import { IncompatibleStateError } from './errors';
import { changeFromFingerprint, STATE_CHANGE } from './stateFingerprint';
import type { Json } from '../types';
import type { ProgressSnapshot, Segment, StatefulPipeline, StateStore } from './types';

const NEXT_STEP =
  'deploy the definition that wrote it again until its windows have closed, or drop them with `shardflow deploy --discard-open-windows`';

export class StateShapeGuard {
  readonly #pipeline: StatefulPipeline;
  readonly #store: StateStore;
  #registered = false;
  /** Segments refused so far (each refusal of a close pass counts once). */
  public refused = 0;

  public constructor(deps: { readonly pipeline: StatefulPipeline; readonly store: StateStore }) {
    this.#pipeline = deps.pipeline;
    this.#store = deps.store;
  }

  /** Registers the running definition's shape once per instance, unless `snapshot` shows it registered. */
  public async register(snapshot: ProgressSnapshot): Promise<void> {
    if (this.#registered) return;
    if (snapshot.shapes?.get(this.#pipeline.stateFingerprint) === undefined)
      await this.#store.registerShape(this.#pipeline.spec.name, this.#pipeline.stateShape);
    this.#registered = true;
  }

  /** Throws `IncompatibleStateError` (and counts it) unless the running definition reads `segment`'s state. */
  public admit(segment: Segment, snapshot: ProgressSnapshot): void {
    const change = changeFromFingerprint(segment.shape, snapshot.shapes, this.#pipeline);
    if (change.kind !== STATE_CHANGE.INCOMPATIBLE) return;
    this.refused += 1;
    throw new IncompatibleStateError(
      `Segment ${segment.commit} of shard ${segment.shardId} of pipeline ${this.#pipeline.spec.name} is not readable by the running definition (${change.reasons.join('; ')}); not merged: ${NEXT_STEP}`,
      {
        shardId: segment.shardId,
        commit: segment.commit,
        storedFingerprint: segment.shape,
        expectedFingerprint: this.#pipeline.stateFingerprint,
      },
    );
  }
}

/** The aggregate columns of `columns` a partial's state lacks: state written before they were added. */
export function missingColumns(
  columns: readonly string[],
  state: Readonly<Record<string, Json>>,
  into: Set<string> | undefined,
): Set<string> | undefined {
  let out = into;
  for (const column of columns) if (!Object.hasOwn(state, column)) (out ??= new Set()).add(column);
  return out;
}
