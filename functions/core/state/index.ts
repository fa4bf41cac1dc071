/** The exactly-once state layer (DESIGN.md §3): stores, the apply/emit path and their building blocks. */
export { BaseStateStore, type BaseStateStoreOptions } from './BaseStateStore';
export { BatchProcessor, MAX_SEEN_IDS, type BatchProcessorOptions, type BatchResult, type CloseResult } from './BatchProcessor';
export { processKinesisBatch, type BatchOutcome, type StreamBatchResponse } from './batchResponse';
export { BatchApplyError, StateConflictError, StateContentionError, StateError, StateItemInvalidError } from './errors';
export { advancesFence, isFenced, mergeFences } from './fence';
export { InMemoryObjectStore, type StoredObject } from './InMemoryObjectStore';
export { InMemoryStateStore, InMemoryStateTables, type InMemoryStateStoreOptions } from './InMemoryStateStore';
export { dedupeHash, emissionId, NO_SEQUENCE, padMillis, padSequenceNumber, progressPartitionKey, SeenIdSet, windowPartitionKey, windowSortKey, windowTtl } from './keys';
export { batchObjectKey, hivePartition, resultObjectKey } from './paths';
export { effectiveWatermark, pipelineWatermark } from './watermark';
export type * from './types';
