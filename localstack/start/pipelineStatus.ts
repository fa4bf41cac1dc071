import { iteratorAgeMs } from '../eventSourceMapping/iteratorAge';
import { SdkDynamoDBStreamReader } from '../eventSourceMapping/SdkDynamoDBStreamReader';
import { isTableStream } from '../eventSourceMapping/streamEvent';
import type { KinesisReader } from '../eventSourceMapping/types';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { AwsClients } from '../../functions/adapters/aws';
import { DynamoDBStateStore } from '../../functions/adapters/DynamoDBStateStore';
import { tableStreamSequence } from '../../functions/core/sequence';
import type { PipelineSpec, WindowBounds } from '../../functions/core/types';
import { PIPELINE_OUTPUTS } from '../../lib/outputNames';
import { BucketCounter, type BucketCounts } from './bucketCounters';
import { NO_COUNTS, sumCounts } from '../../functions/core/state/shardCounts';
import type { ShardCounts } from '../../functions/core/state/types';
import { NotRunningError } from './errors';
import { readOutputs, type DeploymentOutputs } from './localTarget';

/** One shard as `status` shows it. */
export interface ShardStatus {
  readonly shardId: string;
  /** Records on the stream after the last applied one (counted up to `maxPending`). */
  readonly pendingRecords: number;
  /** How far behind the tip the pipeline's position is (Kinesis `MillisBehindLatest`). */
  readonly iteratorAgeMs: number;
  /** Shard watermark (max event time − maxOutOfOrderness), epoch ms; null before any event time. */
  readonly watermark: number | null;
  /** Processing time of the last record applied, epoch ms; null if none yet. */
  readonly lastActivity: number | null;
  /** Closed by resharding and fully processed: it no longer holds the watermark back. */
  readonly closed: boolean;
  /** What this shard's commits took in (records, rejected, late, duplicates dropped). */
  readonly taken: ShardCounts;
}

/** What `shardflow status` reports for one pipeline. */
export interface PipelineStatus {
  readonly pipeline: string;
  readonly stream: string;
  readonly shards: readonly ShardStatus[];
  /** The watermark up to which windows have been closed; null before the first close. */
  readonly closedWatermark: number | null;
  /** Windows with committed state that are not emitted yet. */
  readonly openWindows: number;
  /** Those windows, by end (then start). */
  readonly pendingWindows: readonly WindowBounds[];
  /** Every window whose close time is at or below this is emitted; null before the first close. */
  readonly emittedThrough: number | null;
  readonly counts: BucketCounts;
  /** What the shards' commits took in (records, rejected, late, duplicates dropped), summed over shards. */
  readonly taken: ShardCounts;
}

/** Strips the zero padding the state store adds to sequence numbers. */
export function unpadSequence(padded: string): string {
  const stripped = padded.replace(/^0+/, '');
  return stripped === '' ? '0' : stripped;
}

/**
 * The physical name of a deployed pipeline's stream: the stack's `StreamName<Scope>` output (scope = the
 * pipeline name in PascalCase), else the name the pipeline gives its source.
 */
export function deployedStream(spec: PipelineSpec, outputs: DeploymentOutputs): string {
  return outputs[PIPELINE_OUTPUTS.stream(spec.name)] ?? spec.source.stream;
}

/** Options of {@link readPipelineStatus}. */
export interface StatusReadOptions {
  /** Pending records are counted up to this many per shard. @default 100_000 */
  readonly maxPending?: number;
  /** A counter kept between calls (it reads only new or changed side-output objects); else a fresh one. */
  readonly counter?: BucketCounter;
}

/** The state table: the recorded `StateTableName` output, else the one table whose name says so. */
export async function resolveStateTable(clients: AwsClients): Promise<string> {
  const recorded = readOutputs()?.StateTableName;
  if (recorded !== undefined) return recorded;
  const { TableNames = [] } = await clients.dynamoDb.send(new ListTablesCommand({}));
  const candidates = TableNames.filter((n) => /statetable/i.test(n));
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0];
  throw new NotRunningError(
    candidates.length === 0
      ? 'No state table found: deploy first with "npm start -- --keep"'
      : `Several state tables found (${candidates.join(', ')})`,
  );
}

async function shardBacklog(
  kinesis: KinesisClient,
  stream: string,
  shardId: string,
  after: string | undefined,
  maxPending: number,
) {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: shardId,
      ...(after === undefined
        ? { ShardIteratorType: 'TRIM_HORIZON' }
        : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }),
    }),
  );
  let iterator = ShardIterator;
  let pending = 0;
  let behind: number | undefined;
  let oldestArrival: number | undefined;
  for (let page = 0; iterator !== undefined && pending < maxPending && page < 20; page++) {
    const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
    behind ??= response.MillisBehindLatest ?? 0;
    const records = response.Records ?? [];
    oldestArrival ??= records[0]?.ApproximateArrivalTimestamp?.getTime();
    pending += records.length;
    if (records.length === 0) break;
    iterator = response.NextShardIterator;
  }
  return { pending, iteratorAgeMs: iteratorAgeMs(Date.now(), oldestArrival, behind ?? 0) };
}

/**
 * The backlog of one shard of a table's DynamoDB stream after `after` (the same count and age as for Kinesis,
 * through the local runtime's reader: DescribeStream, GetShardIterator, GetRecords).
 */
async function tableShardBacklog(
  reader: KinesisReader,
  streamArn: string,
  shardId: string,
  after: string | undefined,
  maxPending: number,
) {
  let iterator: string | undefined = await reader.getShardIterator(
    streamArn,
    shardId,
    after === undefined
      ? { type: 'TRIM_HORIZON' }
      : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: tableStreamSequence(after) },
  );
  let pending = 0;
  let oldestArrival: number | undefined;
  for (let page = 0; iterator !== undefined && pending < maxPending && page < 20; page++) {
    const { records, nextShardIterator } = await reader.getRecords(iterator, maxPending - pending);
    oldestArrival ??= records[0]?.approximateArrivalTimestamp;
    pending += records.length;
    if (records.length === 0) break;
    iterator = nextShardIterator;
  }
  return { pending, iteratorAgeMs: iteratorAgeMs(Date.now(), oldestArrival, 0) };
}

/** The shards of the source (a Kinesis stream by name, or a table's stream by ARN) and each one's backlog. */
function sourceShards(clients: AwsClients, stream: string, maxPending: number) {
  if (isTableStream(stream)) {
    const reader = new SdkDynamoDBStreamReader(clients.dynamoDbStreams);
    return {
      list: async () => (await reader.listShards(stream)).map((s) => s.shardId),
      backlog: (shardId: string, after: string | undefined) =>
        tableShardBacklog(reader, stream, shardId, after, maxPending),
    };
  }
  return {
    list: async () => {
      const { Shards = [] } = await clients.kinesis.send(new ListShardsCommand({ StreamName: stream }));
      return Shards.map((s) => s.ShardId ?? '');
    },
    backlog: (shardId: string, after: string | undefined) =>
      shardBacklog(clients.kinesis, stream, shardId, after, maxPending),
  };
}

/**
 * Reads a deployed pipeline's progress: shard progress items and open windows from the state table,
 * the backlog after each shard's applied position from its source (Kinesis, or a table's DynamoDB stream),
 * and the side-output counts from the results bucket.
 */
export async function readPipelineStatus(
  clients: AwsClients,
  spec: PipelineSpec,
  where: { readonly stateTable: string; readonly bucket: string; readonly stream: string },
  options: StatusReadOptions = {},
): Promise<PipelineStatus> {
  const maxPending = options.maxPending ?? 100_000;
  const store = new DynamoDBStateStore({ tableName: where.stateTable, client: clients.dynamoDb });
  const progress = await store.readProgress(spec.name);
  const byShard = new Map(progress.shards.map((s) => [s.shardId, s]));
  const source = sourceShards(clients, where.stream, maxPending);
  const shards: ShardStatus[] = [];
  for (const shardId of await source.list()) {
    const applied = byShard.get(shardId);
    const last =
      applied === undefined || /^0*$/.test(applied.lastSequence)
        ? undefined
        : unpadSequence(applied.lastSequence);
    const backlog = await source.backlog(shardId, last);
    shards.push({
      shardId,
      pendingRecords: backlog.pending,
      iteratorAgeMs: backlog.iteratorAgeMs,
      watermark: applied?.watermark ?? null,
      lastActivity: applied?.lastActivity ?? null,
      closed: applied?.closed ?? false,
      taken: applied?.counts ?? NO_COUNTS,
    });
  }
  const emitted = progress.pipeline?.emittedThrough ?? -Infinity;
  const lateness = spec.time.allowedLatenessMs;
  const open = new Map<string, WindowBounds>();
  for (const shard of progress.shards)
    for (const p of shard.pending)
      if (p.end + lateness > emitted) open.set(`${p.start}-${p.end}`, { start: p.start, end: p.end });
  return {
    pipeline: spec.name,
    stream: where.stream,
    shards,
    closedWatermark: progress.pipeline?.closedWatermark ?? null,
    openWindows: open.size,
    pendingWindows: [...open.values()].sort((a, b) => a.end - b.end || a.start - b.start),
    emittedThrough: progress.pipeline?.emittedThrough ?? null,
    counts: await (options.counter ?? new BucketCounter(clients.s3, where.bucket)).counts(),
    taken: sumCounts(progress.shards),
  };
}
