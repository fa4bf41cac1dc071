/**
 * The console as one piece: the target's sources sampled in the background, the view computed from the
 * latest sample and the history, served on 127.0.0.1. Used by `shardflow console` and by the `--keep` of
 * `start` and `run`.
 */
import { errorLine } from '../cli/commands/cliAction';
import { DEPLOY_LOCAL_HINT } from '../start/localTarget';
import { statusSource, type ConsoleTarget, type PipelineSample, type SourceLimits } from './consoleSources';
import { startConsoleServer } from './consoleServer';
import { ConsolePortInUseError } from './errors';
import { Sampler } from './sampler';
import { historyPoints, type HistoryPoint } from './plotSeries';
import { consoleView, type ConsoleView, type ViewedPipeline } from './viewModel';

/** Where the console listens unless told otherwise: next to the local cloud's edge port 4566. */
export const DEFAULT_CONSOLE_PORT = 4567;
/** Pause between two status reads. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 2_000;
/** Samples kept for the plots: 30 minutes at the default interval. */
export const DEFAULT_HISTORY_SAMPLES = 900;
/**
 * Pending records counted per shard and read: `status` counts up to 100,000 once, the console every few
 * seconds, so it stops at one GetRecords page (a deeper backlog shows as `≥ 10,000`).
 */
export const DEFAULT_CONSOLE_MAX_PENDING = 10_000;

/** Options of {@link openConsole}. */
export interface ConsoleOptions extends SourceLimits {
  /** 0 picks a free port. @default DEFAULT_CONSOLE_PORT */
  readonly port?: number;
  /** When the port is taken, listen on a free one instead of failing. @default false */
  readonly fallbackToFreePort?: boolean;
  /** @default DEFAULT_SAMPLE_INTERVAL_MS */
  readonly intervalMs?: number;
  /** @default DEFAULT_HISTORY_SAMPLES */
  readonly historySamples?: number;
}

/** A running console. */
export interface RunningConsole {
  readonly url: string;
  /** Stops sampling and serving. */
  close(): Promise<void>;
}

const UNREACHABLE = /ECONNREFUSED|ECONNRESET|socket hang up|EHOSTUNREACH/;

/** A failed read as the one line the page shows, with the next step when the cloud or the stack is gone. */
export function sampleErrorLine(error: unknown, endpoint: string): string {
  const line = errorLine(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (UNREACHABLE.test(line) || UNREACHABLE.test(code))
    return `Local cloud not reachable at ${endpoint}: start one with "npm start -- --keep" (or ${DEPLOY_LOCAL_HINT}); the console keeps trying`;
  if (line.startsWith('ResourceNotFoundException'))
    return `${line} Is the pipeline deployed on ${endpoint}? Deploy it ("npx shardflow deploy --local"), or name the deployed one: "npx shardflow console <pipeline>"`;
  return line;
}

/** Starts sampling `target` and serving the console. */
export async function openConsole(
  target: ConsoleTarget,
  options: ConsoleOptions = {},
): Promise<RunningConsole> {
  const intervalMs = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  const pipelines: ViewedPipeline[] = target.pipelines.map((p) => ({
    topology: p.pipeline.topology(),
    stream: p.stream,
  }));
  const pendingLimit = options.maxPending ?? DEFAULT_CONSOLE_MAX_PENDING;
  const sampler = new Sampler<readonly PipelineSample[], readonly HistoryPoint[]>(
    statusSource(target, { ...options, maxPending: pendingLimit }),
    {
      intervalMs,
      capacity: options.historySamples ?? DEFAULT_HISTORY_SAMPLES,
      reduce: (samples, at) => historyPoints(pipelines, samples, at),
      describeError: (error) => sampleErrorLine(error, target.endpoint),
    },
  );
  const context = { endpoint: target.endpoint, intervalMs, pendingLimit, pipelines };
  // The view changes only with a sample: computed once per sample, whatever the number of browsers.
  let view: { readonly seq: number; readonly value: ConsoleView } | undefined;
  const current = (): ConsoleView => {
    const state = sampler.state();
    if (view?.seq !== state.seq) view = { seq: state.seq, value: consoleView(context, state) };
    return view.value;
  };
  const serve = (port: number) => startConsoleServer({ port, state: current });
  const port = options.port ?? DEFAULT_CONSOLE_PORT;
  const server = await serve(port).catch((error: unknown) => {
    if (error instanceof ConsolePortInUseError && options.fallbackToFreePort === true) return serve(0);
    throw error;
  });
  sampler.start();
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await sampler.stop();
    },
  };
}
