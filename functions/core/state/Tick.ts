/**
 * The scheduled tick (DESIGN.md §2): Lambda only runs when records arrive, so an EventBridge tick (locally,
 * the runtime's timer) advances shards that deliver nothing and closes the windows that became due.
 *
 * The tick registers shards that have delivered nothing yet, raises the close mark (`frozen`) of every
 * shard below the pipeline watermark to it, and runs close passes until none emits. It is the only writer
 * of a shard's progress item besides the shard itself, and it only ever raises the close mark. A pipeline
 * without windows (publish-only) has nothing that reads the close mark: its tick raises none (each raise
 * would be a write that makes a commit in flight lose its race and apply again), and only registers shards
 * (they hold the watermark it reports) and sweeps side outputs.
 */
import type { Clock, EpochMillis } from '../types';
import { pipelineWatermark } from '../watermark/pipelineWatermark';
import type { AttemptOutputs } from './attemptOutputs';
import { landed, StateContentionError } from './errors';
import { NO_SEQUENCE } from './keys';
import { closedEndOf, raisedClosedEnd, startingCondition, startingMarks } from './closeableThrough';
import { prunePending, type PendingRule } from './pendingWindows';
import type { ProgressSnapshot, ShardProgress, StatefulPipeline, StateStore } from './types';
import type { WindowCloser } from './WindowCloser';

/** What one tick did. */
export interface CloseResult {
  readonly watermark: EpochMillis;
  readonly windowsEmitted: number;
}

/** What a caller of a tick may bound: the shards to register, and until when close passes may start. */
export interface TickOptions {
  /** Shards the stream has (registered when they have delivered nothing yet). */
  readonly shardIds?: readonly string[];
  /** No close pass but the first starts at or after this time (the tick's clock). */
  readonly passesUntil?: EpochMillis;
}

/** Close passes one tick runs at most (each emits up to the closer's per-pass limit). */
const MAX_PASSES = 100;

/** Rounds of close-mark raises the end-of-input tick makes while some lose to another writer. */
const MAX_RAISE_ROUNDS = 8;

/** What a tick works with: the apply path's stores, clock, closer and pending-window rule. */
export interface TickDependencies {
  readonly pipeline: StatefulPipeline;
  readonly store: StateStore;
  readonly clock: Clock;
  /** The shard count the pipeline's source declares (0: unknown). */
  readonly expectedShards: number;
  /** Emits what every shard has frozen: windows (`WindowCloser`) or sessions (`SessionCloser`). */
  readonly closer: Pick<WindowCloser, 'close'>;
  /** How partials map to pending windows and when those are dropped. */
  readonly rule: PendingRule;
  /** The side outputs of attempts that did not commit. */
  readonly attempts: AttemptOutputs;
  /** Whether the pipeline has windows; without any, no close mark is raised. */
  readonly windowed: boolean;
}

export class Tick {
  readonly #deps: TickDependencies;
  readonly #name: string;

  public constructor(deps: TickDependencies) {
    this.#deps = deps;
    this.#name = deps.pipeline.spec.name;
  }

  /**
   * Registers shards that have delivered nothing yet (`shardIds`), raises the close mark of every shard
   * below the pipeline watermark to it (a shard raises its own at each commit; one that has no batch, being
   * idle or quiet, would otherwise hold its windows open until it has), and closes every due window.
   * `watermarkOverride` (+Infinity at the end of bounded input) raises every shard's mark to it, so
   * everything up to it closes. `endOfInput` (default: whether there is an override) says no commit is
   * still to come: side outputs of every shard are swept and the provisioned shard count is not waited
   * for; a drain (`drain.ts`) overrides the watermark while the stream goes on, so it passes false.
   * `passesUntil` (the clock's time): no close pass starts at or after it but the first, so a function's
   * tick ends before its timeout and the next tick goes on (what stays due is emitted then).
   */
  public async run(
    watermarkOverride?: EpochMillis,
    options: TickOptions & { readonly endOfInput?: boolean } = {},
  ): Promise<CloseResult> {
    const { store, clock, pipeline, rule, closer, attempts } = this.#deps;
    const endOfInput = options.endOfInput ?? watermarkOverride !== undefined;
    const lateness = pipeline.spec.time.allowedLatenessMs;
    let snapshot = await store.readProgress(this.#name);
    const now = clock.now();
    const unknown = (options.shardIds ?? []).filter(
      (id) => !snapshot.shards.some((shard) => shard.shardId === id),
    );
    const watermark =
      watermarkOverride ??
      pipelineWatermark(snapshot.shards, now, pipeline.spec.time.idleTimeoutMs, this.#deps.expectedShards);
    // A raise that loses to another writer of the shard's item (its own commit, another tick, a write still in
    // flight) is left to the next tick, which sees that writer's state; except at the end of input
    // (`watermarkOverride`), where no tick comes after: there it is made again on what that writer stored until
    // every open shard is at the mark, and failing that the tick throws rather than leave windows unemitted.
    for (let round = 1; ; round++) {
      const bound = rule.bound(snapshot.pipeline);
      const raise = this.#deps.windowed
        ? snapshot.shards.filter(
            (shard) =>
              !shard.closed &&
              // Below the mark; closed through less than it says (after a deploy that shortened the lateness);
              // or an item written before closedEnd was kept (written once, so passes and commits under
              // different latenesses read the same mark).
              (shard.frozen < watermark ||
                watermark - lateness > closedEndOf(shard, lateness) ||
                shard.closedEnd === undefined),
          )
        : [];
      const writes: Promise<boolean>[] = [
        ...(round === 1 ? unknown.map((shardId) => this.#register(shardId, snapshot, now)) : []),
        ...raise.map((shard) =>
          landed(
            store.commit({
              progress: {
                ...shard,
                frozen: Math.max(shard.frozen, watermark),
                closedEnd: raisedClosedEnd(shard, watermark, lateness),
                pending: prunePending(shard.pending, bound, rule.valueOf),
                version: shard.version + 1,
              },
              expectedVersion: shard.version,
            }),
          ),
        ),
      ];
      if (writes.length === 0) break;
      // Every write settles before an error is rethrown: none is left to land under a later tick's writes.
      const lost = (await settleAll(writes)).some((ok) => !ok);
      snapshot = await store.readProgress(this.#name);
      if (!lost || watermarkOverride === undefined) break;
      if (round >= MAX_RAISE_ROUNDS) {
        throw new StateContentionError(
          `The close marks of pipeline ${this.#name} could not be raised to ${watermark}: their progress kept changing`,
        );
      }
    }
    // Shards with no commits coming (idle, or the end of bounded input) have their side outputs swept here.
    if (await attempts.sweepIdle(snapshot, now, endOfInput)) snapshot = await store.readProgress(this.#name);
    let windowsEmitted = 0;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      if (pass > 0 && options.passesUntil !== undefined && clock.now() >= options.passesUntil) break;
      const closed = await closer.close(snapshot, endOfInput);
      windowsEmitted += closed;
      if (closed === 0) break;
      snapshot = await store.readProgress(this.#name);
    }
    return { watermark, windowsEmitted };
  }

  /** A progress item for a shard that has delivered nothing yet: it holds the watermark until it goes idle. */
  async #register(shardId: string, snapshot: ProgressSnapshot, now: EpochMillis): Promise<boolean> {
    const start = startingMarks(snapshot.pipeline, this.#deps.pipeline.spec.time.allowedLatenessMs);
    const progress: ShardProgress = {
      pipeline: this.#name,
      shardId,
      watermark: null,
      maxEventTime: null,
      lastSequence: NO_SEQUENCE,
      lastActivity: now,
      closed: false,
      frozen: start.frozen,
      closedEnd: start.closedEnd,
      commits: 0,
      pending: [],
      version: 1,
    };
    return landed(
      this.#deps.store.commit({
        progress,
        expectedVersion: undefined,
        ...startingCondition(snapshot.pipeline),
      }),
    );
  }
}

/** The values of `writes` once every one has settled; the first error, if any, after all have. */
async function settleAll<T>(writes: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(writes);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}
