import type { CheckpointStore, ShardCheckpoint } from './types';

/** Checkpoints held in memory (tests, throw-away runs). */
export class MemoryCheckpointStore implements CheckpointStore {
  protected readonly checkpoints = new Map<string, Map<string, ShardCheckpoint>>();

  public async get(mappingUuid: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    return this.checkpoints.get(mappingUuid)?.get(shardId);
  }

  public async put(mappingUuid: string, shardId: string, checkpoint: ShardCheckpoint): Promise<void> {
    let shards = this.checkpoints.get(mappingUuid);
    if (shards === undefined) {
      shards = new Map();
      this.checkpoints.set(mappingUuid, shards);
    }
    shards.set(shardId, checkpoint);
  }

  public async hasMapping(mappingUuid: string): Promise<boolean> {
    return this.checkpoints.has(mappingUuid);
  }

  public async markMapping(mappingUuid: string): Promise<void> {
    if (!this.checkpoints.has(mappingUuid)) this.checkpoints.set(mappingUuid, new Map());
  }

  /** Snapshot for inspection: mapping → shard → checkpoint. */
  public snapshot(): Record<string, Record<string, ShardCheckpoint>> {
    const out: Record<string, Record<string, ShardCheckpoint>> = {};
    for (const [mapping, shards] of this.checkpoints) out[mapping] = Object.fromEntries(shards);
    return out;
  }
}
