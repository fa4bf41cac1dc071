export {
  pipeline,
  PipelineBuilder,
  type CleanOptions,
  type SinkOptions,
  type SourceOptions,
  type TableSourceOptions,
  type ToStreamOptions,
  type WindowOptions,
} from './pipeline';
export { tumbling, sliding, session } from '../windows/windowSpecs';
export * from '../aggregates';
export type { Duration } from '../duration';
export { parseIsoDateTime } from '../isoDateTime';
export type { PublishedRecord } from '../engine/streamTap';
export type { TableChange, ChangeEventName, StreamViewType } from '../tableChange';
