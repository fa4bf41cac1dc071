/**
 * Producer-duplicate detection per shard (`dedupeBy`): the hashes of the event ids a shard's commits
 * applied, from the first commit that still holds a pending (not yet emitted) window, at most `maxIds` of
 * the most recent. A warm instance keeps them between batches; when another instance committed meanwhile
 * (the shard's commit count moved), only the new segments are read; a cold instance reads the horizon.
 */
import { SeenIdSet } from './keys';
import { firstPendingCommit } from './pendingWindows';
import { decodeSegment } from './segmentCodec';
import type { ShardProgress, StateStore } from './types';
import { InvalidOptionError } from '../errors';

interface ShardIds {
  /** Commit the hashes are complete up to. */
  commits: number;
  /** Hashes per commit, oldest first. */
  readonly byCommit: Map<number, readonly string[]>;
  /**
   * How many of the kept commits hold a hash, for the hashes more than one holds (an id applied again after
   * leaving the horizon); a hash in `all` and not here is held by one. Counting only those keeps one hash
   * operation per id off each batch (a count for every id was ~3% of the operator's CPU in the bench e2e).
   */
  readonly repeated: Map<string, number>;
  readonly all: SeenIdSet;
}

export class DedupeCache {
  readonly #shards = new Map<string, ShardIds>();
  readonly #maxIds: number;

  /** @param maxIds most recent ids kept per shard (the dedupe horizon's cap). */
  public constructor(maxIds: number) {
    if (!Number.isSafeInteger(maxIds) || maxIds < 1)
      throw new InvalidOptionError(`maxIds must be a positive integer (given ${maxIds})`);
    this.#maxIds = maxIds;
  }

  /** The ids the shard has applied within its horizon, as of `progress` (reading segments it lacks). */
  public async seen(
    store: StateStore,
    pipeline: string,
    shardId: string,
    progress: ShardProgress | undefined,
  ): Promise<ReadonlySet<string>> {
    const key = `${pipeline}\u0000${shardId}`;
    if (progress === undefined || progress.commits === 0) {
      this.#shards.delete(key);
      return new SeenIdSet();
    }
    const from = firstPendingCommit(progress);
    let ids = this.#shards.get(key);
    // A cache from a later state than the stored one (a commit of this instance that the store reports
    // otherwise) cannot be trusted: start over.
    if (ids === undefined || ids.commits > progress.commits) {
      ids = { commits: from - 1, byCommit: new Map(), repeated: new Map(), all: new SeenIdSet() };
      this.#shards.set(key, ids);
    }
    if (ids.commits < progress.commits) {
      const start = Math.max(from, ids.commits + 1);
      for (const segment of await store.readSegments(progress, start, progress.commits)) {
        this.#add(ids, segment.commit, decodeSegment(segment.body).dedupeHashes);
      }
      ids.commits = progress.commits;
    }
    this.#trim(ids, from);
    return ids.all;
  }

  /** Records what this instance just committed, so its next batch needs no read. */
  public committed(
    pipeline: string,
    shardId: string,
    progress: ShardProgress,
    hashes: readonly string[],
  ): void {
    const ids = this.#shards.get(`${pipeline}\u0000${shardId}`);
    if (ids === undefined || ids.commits !== progress.commits - 1) {
      this.#shards.delete(`${pipeline}\u0000${shardId}`);
      return;
    }
    this.#add(ids, progress.commits, hashes);
    ids.commits = progress.commits;
    this.#trim(ids, firstPendingCommit(progress));
  }

  #add(ids: ShardIds, commit: number, hashes: readonly string[]): void {
    if (hashes.length === 0) return;
    ids.byCommit.set(commit, hashes);
    const all = ids.all;
    for (const hash of hashes) {
      // One lookup for has + add (`all.has` takes raw ids): a hash already there leaves the size unchanged.
      const size = all.size;
      if (all.add(hash).size === size) ids.repeated.set(hash, (ids.repeated.get(hash) ?? 1) + 1);
    }
  }

  /** Drops commits before the horizon, then the oldest beyond `maxIds`. */
  #trim(ids: ShardIds, from: number): void {
    for (const [commit, hashes] of ids.byCommit) {
      if (commit >= from && ids.all.size <= this.#maxIds) break;
      ids.byCommit.delete(commit);
      for (const hash of hashes) {
        const held = ids.repeated.get(hash);
        if (held === undefined) ids.all.delete(hash);
        else if (held > 2) ids.repeated.set(hash, held - 1);
        else ids.repeated.delete(hash);
      }
    }
  }
}
