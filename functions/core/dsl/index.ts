export { pipeline, PipelineBuilder } from './pipeline';
export type {
  CleanOptions,
  SinkOptions,
  SourceOptions,
  TableSourceOptions,
  ToStreamOptions,
  WindowOptions,
} from './options';
export { tumbling, sliding, session } from '../windows/windowSpecs';
export * from '../aggregates';
export type { Duration } from '../duration';
export { parseIsoDateTime } from '../isoDateTime';
export type { PublishedRecord } from '../engine/streamTap';
export type { TableChange, ChangeEventName, StreamViewType } from '../tableChange';
