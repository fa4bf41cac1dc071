/**
 * Object keys in the results bucket (DESIGN.md §5). Keys never contain user data (record keys live inside
 * the objects only), so hostile input cannot steer where objects land.
 */
import { createHash } from 'node:crypto';
import { BUCKET_PREFIX } from '../constants';
import type { EpochMillis, WindowBounds } from '../types';
import { InvalidOptionError } from '../errors';
import { assertShardId } from '../shardId';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

/** Rejects table and stream names that would escape their prefix. */
export function assertSafeName(kind: string, name: string): string {
  if (!SAFE_NAME.test(name))
    throw new InvalidOptionError(
      `${kind} name must match ${SAFE_NAME.source} (given ${JSON.stringify(name)})`,
    );
  return name;
}

/** Hive partition path `dt=YYYY-MM-DD/hour=HH` of an instant, in UTC. */
export function hivePartition(time: EpochMillis): string {
  const iso = new Date(time).toISOString();
  return `dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`;
}

/** The `dt` of {@link hivePartition}: the instant's UTC day, `YYYY-MM-DD`. */
export function partitionDay(time: EpochMillis): string {
  return hivePartition(time).slice(3, 13);
}

/**
 * `results/<table>/dt=YYYY-MM-DD/hour=HH/<start>-<end>.<ext>`: the one object of a window (every key's row),
 * partitioned by window start, named by its bounds in epoch milliseconds so a retried emission overwrites it.
 */
export function resultObjectKey(table: string, window: WindowBounds, extension: string): string {
  return resultPartitionObjectKey(table, window.start, `${window.start}-${window.end}`, extension);
}

/** `results/<table>/dt=YYYY-MM-DD/hour=HH/<name>.<ext>`: an object of rows whose windows start in that hour. */
export function resultPartitionObjectKey(
  table: string,
  time: EpochMillis,
  name: string,
  extension: string,
): string {
  return `${BUCKET_PREFIX.RESULTS}${assertSafeName('Table', table)}/${hivePartition(time)}/${assertSafeName('Object', name)}.${extension}`;
}

/** Which side output a batch object belongs to. */
export type SideOutput = 'clean' | 'rejected' | 'late';

const SIDE_PREFIX: Record<SideOutput, string> = {
  clean: BUCKET_PREFIX.CLEAN,
  rejected: BUCKET_PREFIX.REJECTED,
  late: BUCKET_PREFIX.LATE,
};

/**
 * Key of a batch object of a side output: `<prefix><name>/dt=…/hour=…/<shard>-<firstSeq>-<lastSeq>[-<tag>].jsonl`,
 * where first and last are the commit attempt's first and last record and `tag` says what else its content
 * depends on (the close mark `late/` was judged by). The part up to `<firstSeq>-` is `batchObjectPrefix`: a
 * commit that starts at the same record finds (and replaces) what an earlier attempt wrote, whatever its
 * batch boundaries were.
 */
export function batchObjectKey(
  output: SideOutput,
  name: string,
  time: EpochMillis,
  shardId: string,
  firstSequence: string,
  lastSequence: string,
  tag?: string,
): string {
  return `${batchObjectPrefix(output, name, time, shardId, firstSequence)}${lastSequence}${tag === undefined ? '' : `-${tag}`}.jsonl`;
}

export function batchObjectPrefix(
  output: SideOutput,
  name: string,
  time: EpochMillis,
  shardId: string,
  firstSequence: string,
): string {
  return `${SIDE_PREFIX[output]}${assertSafeName('Stream or table', name)}/${hivePartition(time)}/${assertShardId('Shard', shardId)}-${firstSequence}-`;
}

/** `rejected-results/<table>/`: where the dead letters of a result table's rows go (`rejectedResultKey`). */
export function rejectedResultsPrefix(table: string): string {
  return `${BUCKET_PREFIX.REJECTED_RESULTS}${assertSafeName('Table', table)}/`;
}

/**
 * `rejected-results/<table>/dt=YYYY-MM-DD/hour=HH/result-<sha256 of id>.jsonl`: the dead letter of a result row
 * its stream could not carry (`resultPublishing.ts`), partitioned by window start, named by the row's record id
 * (hashed: an id holds the row's key), so a pass run again overwrites it. Not under `rejected/`, which holds
 * rejected input records only (see `BUCKET_PREFIX.REJECTED_RESULTS`).
 */
export function rejectedResultKey(table: string, windowStart: EpochMillis, id: string): string {
  const digest = createHash('sha256').update(id).digest('hex');
  return `${rejectedResultsPrefix(table)}${hivePartition(windowStart)}/${REJECTED_RESULT}${digest}.jsonl`;
}

const REJECTED_RESULT = 'result-';
const REJECTED_RESULT_NAME = /\/result-[0-9a-f]{64}\.jsonl$/;

/** Whether `key` is the dead letter of a result row (`rejectedResultKey`). */
export function isRejectedResultKey(key: string): boolean {
  return key.startsWith(BUCKET_PREFIX.REJECTED_RESULTS) && REJECTED_RESULT_NAME.test(key);
}
