/** The local console: a web page that shows a pipeline running on the local cloud. */
export {
  DEFAULT_CONSOLE_PORT,
  DEFAULT_HISTORY_SAMPLES,
  DEFAULT_SAMPLE_INTERVAL_MS,
  openConsole,
  type ConsoleOptions,
  type RunningConsole,
} from './openConsole';
export type { ConsolePipeline, ConsoleTarget } from './consoleSources';
export { ConsoleError, ConsolePortInUseError } from './errors';
