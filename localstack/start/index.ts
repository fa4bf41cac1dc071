/**
 * What `npm start` and the `send`, `run` and `status` commands are built from: producing to Kinesis,
 * reading bounded input, the embedded cloud with the stack deployed on it, and the start run itself.
 */
export { BucketCounter, countSideOutputRecords, type BucketCounts } from './bucketCounters';
export { resultTableSql, runInMemory, timestampText, type InMemoryRunResult } from './boundedRun';
export { DeadlineError, InputError, NotRunningError, SendError, ShardflowCliError } from './errors';
export {
  INPUT_FORMATS,
  detectFormat,
  parseCsv,
  parseJsonLines,
  readInputFile,
  readParquet,
  type InputFormat,
  type InputRecord,
} from './inputFile';
export { createLiveLine, type LiveLine } from './liveLine';
export { UnknownPipelineError, loadPipeline } from './loadPipeline';
export { openLocalSession, type LocalSession, type LocalSessionOptions } from './localSession';
export {
  ENDPOINT_OUTPUT,
  assertLocalCloudRunning,
  localClients,
  localEndpoint,
  outputsFilePath,
  readOutputs,
  removeOutputs,
  resolveResultsBucket,
  writeOutputs,
  type DeploymentOutputs,
} from './localTarget';
export {
  readPipelineStatus,
  resolveStateTable,
  type PipelineStatus,
  type ShardStatus,
} from './pipelineStatus';
export { parseS3Url, readRunInput, unwrapArchived } from './runInput';
export { drainTimeout, runStart, type StartOptions, type StartReport } from './runStart';
export { checkAnswers, compareTotals, sampleQueries, type SampleQuery } from './sampleQueries';
export {
  PUT_RECORDS_LIMITS,
  planBatches,
  sendRecords,
  type SendOptions,
  type SendProgress,
} from './sendRecords';
export { SynthError, stackTemplatePath, synthesize } from './synthesize';
