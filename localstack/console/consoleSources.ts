/**
 * Where the console's figures come from: the sources `shardflow status` reads (shard progress and open
 * windows in the state table, the backlog on the stream, the side outputs in the results bucket), plus
 * the newest result window of each table and the pipeline's `rejected/` records. One call reads them all
 * once; the readers keep what they read, so each later call fetches only new or changed objects.
 */
import type { AwsClients } from '../../functions/adapters/aws';
import { BUCKET_PREFIX } from '../../functions/core/constants';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { SummarizedObjects } from '../start/bucketObjects';
import { BucketCounter, countSideOutputRecords, ResultDeadLetterCounter } from '../start/bucketCounters';
import { readPipelineStatus, type PipelineStatus } from '../start/pipelineStatus';
import { LatestResults, type TableResults } from './latestResults';
import { mergeRejected, summarizeRejected, type RejectedSummary, type RejectedView } from './rejectedRecords';

/** A deployed pipeline the console shows. */
export interface ConsolePipeline {
  readonly pipeline: CompiledPipeline<unknown>;
  /** The stream's physical name on the cloud. */
  readonly stream: string;
}

/** The cloud and deployment the console reads. */
export interface ConsoleTarget {
  readonly endpoint: string;
  readonly clients: AwsClients;
  readonly bucket: string;
  readonly stateTable: string;
  readonly pipelines: readonly ConsolePipeline[];
}

/** One pipeline at one moment. */
export interface PipelineSample {
  readonly status: PipelineStatus;
  readonly rejected: RejectedView;
  readonly results: TableResults;
  /** Records in the pipeline's `late/` objects. */
  readonly lateRecords: number;
  /**
   * Result rows dead-lettered to `rejected-results/<table>/` for being over the Kinesis record limit (a
   * pipeline that publishes its results); absent otherwise.
   */
  readonly resultsDeadLettered?: number;
}

/** Reads every pipeline of the target once. */
export type SampleSource = () => Promise<readonly PipelineSample[]>;

/** Limits of what one sample carries. */
export interface SourceLimits {
  /** Newest rejections listed. @default 20 */
  readonly rejections?: number;
  /** Rows of the newest result window. @default 20 */
  readonly resultRows?: number;
  /** Pending records counted per shard (a deeper backlog shows as this many). @default 100_000 */
  readonly maxPending?: number;
}

/** The sample source of `target`. */
export function statusSource(target: ConsoleTarget, limits: SourceLimits = {}): SampleSource {
  const { clients, bucket, stateTable } = target;
  const keep = limits.rejections ?? 20;
  const counter = new BucketCounter(clients.s3, bucket);
  const readers = target.pipelines.map(({ pipeline, stream }) => {
    const { spec } = pipeline;
    const topology = pipeline.topology();
    return {
      spec,
      stream,
      rejected: new SummarizedObjects<RejectedSummary>(
        clients.s3,
        bucket,
        `${BUCKET_PREFIX.REJECTED}${spec.source.stream}/`,
        (text) => summarizeRejected(text, topology, keep),
        // The page lists the newest `keep` rejections: they come from the newest `keep` objects at most.
        { newest: keep, slim: (summary) => ({ ...summary, recent: [] }) },
      ),
      // A publish-only pipeline (no sink) has no windows: no late records, no results.
      late:
        spec.sink === undefined
          ? { read: () => Promise.resolve([]) }
          : new SummarizedObjects(
              clients.s3,
              bucket,
              `${BUCKET_PREFIX.LATE}${spec.sink.table}/`,
              countSideOutputRecords,
            ),
      results:
        spec.sink === undefined
          ? { read: () => Promise.resolve({ table: '', windowsEmitted: 0, latest: null }) }
          : new LatestResults(clients.s3, bucket, spec.sink.table, { maxRows: limits.resultRows ?? 20 }),
      deadLetters:
        spec.sink?.toStream === undefined
          ? undefined
          : new ResultDeadLetterCounter(clients.s3, bucket, spec.sink.table),
    };
  });
  return async () => {
    const samples: PipelineSample[] = [];
    for (const reader of readers) {
      const [status, rejected, late, results, deadLetters] = await Promise.all([
        readPipelineStatus(
          clients,
          reader.spec,
          { stateTable, bucket, stream: reader.stream },
          { counter, ...(limits.maxPending === undefined ? {} : { maxPending: limits.maxPending }) },
        ),
        reader.rejected.read(),
        reader.late.read(),
        reader.results.read(),
        reader.deadLetters?.count(),
      ]);
      samples.push({
        status,
        rejected: mergeRejected(rejected, keep),
        results,
        lateRecords: late.reduce((n, o) => n + o.summary, 0),
        ...(deadLetters === undefined ? {} : { resultsDeadLettered: deadLetters }),
      });
    }
    return samples;
  };
}
