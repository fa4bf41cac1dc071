/**
 * The local template deployer: reads a synthesized CDK stack, creates its streams, tables, buckets
 * and queues on the local cloud, and registers its functions and event source mappings.
 */
export {
  deployAndRun,
  failureDestinations,
  type CloudEndpoint,
  type DeployAndRunOptions,
  type RunningDeployment,
} from './deployAndRun';
export { Deployer, type DeployerClients, type DeployOptions } from './Deployer';
export { planDeployment, planTables, type AssetLocator } from './planDeployment';
export { handlerEntry, rateToMs } from './resourcePlanners';
export { readStackArtifact, type StackArtifact } from './cloudAssembly';
export { runCustomResources } from './customResources';
export { TemplateResolver } from './TemplateResolver';
export { ScheduleRunner, scheduledEvent, type EventInvoker } from './ScheduleRunner';
export { generatePhysicalName, physicalSuffix, deterministicUuid } from './physicalNames';
export * from './errors';
export * from './types';
