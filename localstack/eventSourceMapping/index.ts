/**
 * The local Kinesis event-source-mapping runtime: polls streams and invokes bundled handlers with
 * Lambda's semantics. See `localstack/README.md` for the conformance table.
 */
export {
  EventSourceMappingRuntime,
  type EventSourceMappingRuntimeOptions,
} from './EventSourceMappingRuntime';
export { WorkerInvoker, type WorkerInvokerOptions } from './WorkerInvoker';
export { SdkKinesisReader } from './SdkKinesisReader';
export { SdkDynamoDBStreamReader } from './SdkDynamoDBStreamReader';
export { buildStreamEvent, buildStreamFailureRecord, isTableStream } from './streamEvent';
export { FileCheckpointStore } from './FileCheckpointStore';
export { MemoryCheckpointStore } from './MemoryCheckpointStore';
export {
  FileFailureDestination,
  S3FailureDestination,
  SqsFailureDestination,
  failureObjectKey,
} from './failureDestinations';
export {
  compileFilterCriteria,
  filterView,
  streamRecordFilter,
  tableFilterView,
  type RecordFilter,
} from './filterCriteria';
export { buildKinesisEvent, buildFailureRecord, type EventContext } from './kinesisEvent';
export { interpretBatchResponse, type PartialBatchVerdict } from './partialBatchResponse';
export { resolveMappingConfig, streamNameFromArn, type ResolvedMappingConfig } from './validateConfig';
export { subPartitionOf } from './ShardPoller';
export { ESM_DEFAULTS, ESM_LIMITS, RUNTIME_DEFAULTS, KINESIS_EVENT } from './constants';
export * from './errors';
export * from './types';
