export {
  pipeline,
  PipelineBuilder,
  type CleanOptions,
  type SinkOptions,
  type SourceOptions,
  type TableSourceOptions,
  type WindowOptions,
} from './pipeline';
export { tumbling, sliding, session } from '../windows/windowSpecs';
export * from '../aggregates';
export type { Duration } from '../duration';
export { parseIsoDateTime } from '../isoDateTime';
export type { TableChange, ChangeEventName, StreamViewType } from '../tableChange';
