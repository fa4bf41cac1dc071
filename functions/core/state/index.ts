/** The exactly-once state layer (DESIGN.md §3): stores, the apply/emit path and their building blocks. */
export { BaseStateStore, type BaseStateStoreOptions, type CommitItems } from './BaseStateStore';
export {
  BatchProcessor,
  type BatchProcessorOptions,
  type BatchResult,
  type CloseResult,
} from './BatchProcessor';
export { processKinesisBatch, type BatchOutcome, type StreamBatchResponse } from './batchResponse';
export {
  BatchApplyError,
  StateConflictError,
  StateContentionError,
  StateError,
  StateItemInvalidError,
  StateLimitError,
} from './errors';
export { InMemoryObjectStore, type StoredObject } from './InMemoryObjectStore';
export {
  InMemoryStateStore,
  InMemoryStateTables,
  type InMemoryStateStoreOptions,
} from './InMemoryStateStore';
export {
  dedupeHash,
  NO_SEQUENCE,
  progressPartitionKey,
  segmentPartitionKey,
  SeenIdSet,
  windowId,
} from './keys';
export { batchObjectKey, hivePartition, resultObjectKey } from './paths';
export { closeableThrough } from './closeableThrough';
export { pipelineWatermark } from '../watermark/pipelineWatermark';
export type * from './types';
