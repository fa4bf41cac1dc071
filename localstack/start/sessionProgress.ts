/**
 * The live line of a run through the local stack (`npm start`, `shardflow run`): records sent, processed,
 * rejected, late, windows emitted and each shard's backlog, refreshed every second while records flow.
 */
import { BucketCounter, type BucketCounts } from './bucketCounters';
import type { LiveLine } from './liveLine';
import type { LocalSession } from './localSession';

/** A running live line; `stop` ends the polling and returns the last bucket counts. */
export interface SessionProgress {
  /** Records put on the stream so far. */
  sent(count: number): void;
  stop(): Promise<BucketCounts>;
}

/** A shard's short name: `shardId-000000000003` → `shard3` (other ids as they are). */
export function shardLabel(shardId: string): string {
  return /^shardId-\d+$/.test(shardId) ? `shard${Number(shardId.slice(8))}` : shardId;
}

/** Each shard's backlog: `shard0 12 pending/3s` (records behind the mapping, iterator age). */
export function describeLag(session: Pick<LocalSession, 'lag'>): string {
  return session
    .lag()
    .map((l) => `${shardLabel(l.shardId)} ${l.pendingRecords} pending/${Math.round(l.iteratorAgeMs / 1000)}s`)
    .join(' ');
}

/**
 * Starts the live line of `session` for an input of `total` records: the bucket is polled once a second
 * (only new or changed objects are read), the line redrawn on every poll and every `sent` call.
 */
export function followSession(
  session: Pick<LocalSession, 'lag' | 'processedRecords' | 'clients' | 'bucket'>,
  live: LiveLine,
  total: number,
): SessionProgress {
  const counter = new BucketCounter(session.clients.s3, session.bucket);
  let sent = 0;
  let counts: BucketCounts = { windowsEmitted: 0, rejected: 0, late: 0 };
  let polling = true;
  const render = (): void =>
    live.update(
      `sent ${sent}/${total} | processed ${session.processedRecords()} | rejected ${counts.rejected} | ` +
        `late ${counts.late} | windows ${counts.windowsEmitted} | ${describeLag(session) || 'no shards yet'}`,
    );
  const poller = (async () => {
    while (polling) {
      counts = await counter.counts().catch(() => counts);
      render();
      await new Promise((r) => setTimeout(r, 1_000));
    }
  })();
  return {
    sent(count) {
      sent = count;
      render();
    },
    async stop() {
      polling = false;
      await poller;
      counts = await counter.counts().catch(() => counts);
      render();
      return counts;
    },
  };
}
