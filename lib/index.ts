/**
 * `shardflow/cdk`: the constructs a user's CDK app deploys pipelines with.
 *
 * @example
 * import { ShardflowPipeline } from 'shardflow/cdk';
 * new ShardflowPipeline(this, 'Orders', { entry: 'pipelines/orders.ts' });
 */
export {
  ShardflowPipeline,
  type ShardflowPipelineProps,
  type PipelineSettings,
  type TickOptions,
} from './constructs/ShardflowPipeline';
export {
  ShardflowStack,
  type ShardflowStackProps,
  type PipelineDeployment,
  validateShardflowStackProps,
} from './stacks/ShardflowStack';
export { pipelinesFromContext } from './pipelinesFromContext';
export { pipelineEntries, PipelineModuleError, type PipelineEntries } from './constructs/pipelineEntries';
export { StateTable, type StateTableProps } from './constructs/StateTable';
export { UpgradeCheck, type UpgradeCheckProps, type OpenWindowsChoice } from './constructs/UpgradeCheck';
export { ResultsBucket, type ResultsBucketProps } from './constructs/ResultsBucket';
export { GlueCatalog, type GlueCatalogProps } from './constructs/GlueCatalog';
export { AthenaWorkgroup, type AthenaWorkgroupProps } from './constructs/AthenaWorkgroup';
export { ShardflowDashboard, type ShardflowDashboardProps } from './constructs/ShardflowDashboard';
export type { ShardEventSourceOptions } from './constructs/ShardEventSource';
export type { PipelineAlarmOptions } from './constructs/PipelineAlarms';
export type { PipelineFunctionOptions } from './constructs/PipelineFunction';
export { ShardflowCdkError, ValidationError } from './errors';
