/**
 * The parts of an operator or tick runtime that only some pipelines use: how the source's events are read
 * (a Kinesis stream, or a table's DynamoDB stream) and how records or results are published to a downstream
 * stream (`.toStream()`, `.sink({ toStream })`). The runtime (`operatorRuntimeCore.ts`) takes them injected,
 * so a function's bundle carries the ones its pipeline uses only: the generated entries
 * (`lib/constructs/pipelineEntries.ts`) import the modules `runtimePartsOf` names, and
 * `createOperatorRuntime` (`operatorRuntime.ts`) picks them by the same rule.
 */
import { publishStreamOf } from '../core/engine/streamTap';
import type { StreamPublisher } from '../core/state/streamPublisher';
import type { PipelineSpec, RawRecord } from '../core/types';
import type { StreamShard } from './streamShards';

/** A pipeline's source as one runtime reads it. */
export interface SourceAccess {
  /** The records of one event of the source (Kinesis, or DynamoDB Streams for a table). */
  decode(event: unknown): Promise<RawRecord[]>;
  /** The shards of the configured stream (the tick lists the open ones); absent when none is configured. */
  readonly listShards?: () => Promise<readonly StreamShard[]>;
  /** The shards a shard was split or merged from (dedupe across a reshard); absent when unknown. */
  readonly shardParents?: (shardId: string) => Promise<readonly string[]>;
}

/** How one kind of source is read. */
export interface SourcePart {
  /** The part's name (`runtimePartsOf`): the runtime checks it is the one its pipeline needs. */
  readonly name: RuntimePartNames['source'];
  /**
   * The access of `spec`'s source; `stream` is the configured stream (`SHARDFLOW_STREAM_NAME`: a Kinesis
   * stream's name, or a table's stream ARN), when there is one.
   */
  open(spec: PipelineSpec, stream: string | undefined): SourceAccess;
}

/** Puts entries to the deployed stream `target` (a name or an ARN). */
export type PublisherPart = (target: string) => Pick<StreamPublisher, 'publish'>;

/** The parts a runtime is built with. */
export interface RuntimeParts {
  readonly source: SourcePart;
  /** Only for a pipeline that publishes to a stream. */
  readonly publisher?: PublisherPart;
}

/**
 * The modules of the parts `spec` needs, each named as the module (`functions/adapters/<name>.ts`) and the
 * part it exports: one rule for the generated entries and for `createOperatorRuntime`.
 */
export interface RuntimePartNames {
  readonly source: 'kinesisSource' | 'tableSource';
  readonly publisher?: 'kinesisPublisher';
}

/** Which parts `spec` needs: its source's reader, and the publisher when it publishes to a stream. */
export function runtimePartsOf(spec: PipelineSpec): RuntimePartNames {
  return {
    source: spec.source.table === undefined ? 'kinesisSource' : 'tableSource',
    ...(publishStreamOf(spec) === undefined ? {} : { publisher: 'kinesisPublisher' as const }),
  };
}
