/** Public API of the pure engine core. */
export * from './dsl';
export { CompiledPipeline } from './engine/CompiledPipeline';
export { MIN_EVENT_TIME, MAX_KEY_BYTES } from './engine/definition';
export type {
  CleanedRecord,
  FenceLookup,
  Pipeline,
  PositionedValue,
  PreparedBatch,
  PreparedRecords,
  PrepareOptions,
  SeenIdsLookup,
  ShardBatchSummary,
} from './engine/types';
export { padSequence, isValidSequence, normalizeSequence, sequenceGreater } from './sequence';
export { parseDuration } from './duration';
export { closeTime, isWindowClosed } from './windows/windowSpecs';
export { tumblingWindow, tumblingWindowStart } from './windows/tumblingWindow';
export { slidingWindows } from './windows/slidingWindow';
export {
  mergeSessions,
  sessionsOverlap,
  sessionWindow,
  type MergedSession,
  type SessionContents,
} from './windows/sessionWindow';
export {
  WatermarkTracker,
  type ShardWatermarkState,
  type WatermarkSettings,
} from './watermark/WatermarkTracker';
export {
  isIdle,
  pipelineWatermark,
  shardWatermark,
  type ShardWatermarkInput,
} from './watermark/pipelineWatermark';
export {
  decodeBase64,
  decodeJson,
  decodeRecordData,
  UndecodedPayload,
  PayloadFailure,
  MAX_RECORD_BYTES,
  MAX_JSON_DEPTH,
} from './codec/payloadCodec';
export { deaggregate, isKplAggregate, KPL_MAGIC, type KplSubRecord } from './codec/kplAggregate';
export * from './errors';
export { runBounded, type BoundedRunOptions, type BoundedRunResult } from './runner/boundedRunner';
