import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MemoryCheckpointStore } from './MemoryCheckpointStore';
import { EventSourceMappingError } from './errors';
import type { ShardCheckpoint } from './types';

/**
 * Checkpoints persisted to one JSON file (default `.shardflow/checkpoints.json`) so a restarted
 * runtime resumes where it stopped. Every change rewrites the file atomically (write + rename).
 */
export class FileCheckpointStore extends MemoryCheckpointStore {
  public constructor(private readonly path: string) {
    super();
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new EventSourceMappingError(`checkpoint file ${path} is not valid JSON`, { cause: error });
      }
      for (const [mapping, shards] of Object.entries(
        parsed as Record<string, Record<string, ShardCheckpoint>>,
      )) {
        this.checkpoints.set(mapping, new Map(Object.entries(shards)));
      }
    }
  }

  public override async put(
    mappingUuid: string,
    shardId: string,
    checkpoint: ShardCheckpoint,
  ): Promise<void> {
    await super.put(mappingUuid, shardId, checkpoint);
    this.flush();
  }

  public override async markMapping(mappingUuid: string): Promise<void> {
    await super.markMapping(mappingUuid);
    this.flush();
  }

  private flush(): void {
    // Synchronous so that the file always reflects the last acknowledged checkpoint, even if the
    // process is killed right after; the file is small (one entry per shard).
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot(), null, 2));
    renameSync(tmp, this.path);
  }
}
