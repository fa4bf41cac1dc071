/**
 * A stream's records written and read back on the embedded local cloud, for the integration tests that
 * drive a pipeline's apply path with the records a mapping would deliver (and every test or bench that needs
 * a stream created and active): create a stream, put entries,
 * read each shard's range back as the mapping shapes them, and cut it into batches as two mappings would.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { readShardRange } from '../../functions/adapters/streamShards';
import type { RawRecord } from '../../functions/core/types';

/** Creates stream `name` with `shards` shards and waits until it is active ({@link waitStreamActive}). */
export async function createActiveStream(
  kinesis: KinesisClient,
  name: string,
  shards: number,
): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitStreamActive(kinesis, name);
}

/**
 * Waits until stream `name` is ACTIVE (after it was created, or resharded), polling every 50 ms.
 *
 * @throws Error when it is not active within `timeoutMs`.
 */
export async function waitStreamActive(
  kinesis: KinesisClient,
  name: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    if (performance.now() > deadline)
      throw new Error(`stream ${name} did not become ACTIVE in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Puts `entries` into `stream` in order (500 at most per call, none refused), then reads each shard's
 * records back from its first to its last put: one list per shard, in shard id order.
 */
export async function putAndReadBack(
  kinesis: KinesisClient,
  stream: string,
  entries: readonly { readonly data: string; readonly partitionKey: string }[],
): Promise<RawRecord[][]> {
  const put: { shardId: string; sequence: string }[] = [];
  for (let i = 0; i < entries.length; i += 250) {
    const reply = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: entries
          .slice(i, i + 250)
          .map((e) => ({ Data: Buffer.from(e.data), PartitionKey: e.partitionKey })),
      }),
    );
    if ((reply.FailedRecordCount ?? 0) > 0) throw new Error(`${reply.FailedRecordCount} records refused`);
    for (const r of reply.Records ?? []) put.push({ shardId: r.ShardId!, sequence: r.SequenceNumber! });
  }
  const shardIds = [...new Set(put.map((p) => p.shardId))].sort();
  return Promise.all(
    shardIds.map((shardId) => {
      const mine = put.filter((p) => p.shardId === shardId);
      return readShardRange(kinesis, stream, shardId, mine[0]!.sequence, mine.at(-1)!.sequence);
    }),
  );
}

/** Each shard's records in batches of `size`, shards taking turns (as one mapping per shard delivers them). */
export function batches(byShard: readonly RawRecord[][], size: number): RawRecord[][] {
  const out: RawRecord[][] = [];
  for (let i = 0; byShard.some((records) => i < records.length); i += size)
    for (const records of byShard) if (i < records.length) out.push(records.slice(i, i + size));
  return out;
}
