/**
 * `--keep` of `start` and `run`: the local cloud stays up after the run, recorded where every other
 * command looks for a cloud (`.shardflow/local.json` like `local up`, and the stack outputs in
 * `.shardflow/outputs.json`), with the console serving a live view of the pipeline, until Ctrl-C or
 * `shardflow local down`.
 */
import { errorLine } from '../cli/commands/cliAction';
import { untilInterrupted } from '../cli/interrupted';
import { DEFAULT_CONSOLE_PORT, openConsole, type RunningConsole } from '../console';
import type { CompiledPipeline } from '../../functions/core/engine/CompiledPipeline';
import { ownerAlive, readState, removeState, writeState, type CloudOwner } from '../emulators/stateFile';
import type { LocalSession } from './localSession';
import { isShippedPipeline } from './loadPipeline';
import { TEMPLATE_OUTPUT } from './localDrain';
import { ENDPOINT_OUTPUT, removeOutputs, writeOutputs } from './localTarget';

/**
 * The `status` command that reports what a kept run deployed: `names` are the pipelines as the command line
 * named them (shipped names or module paths); module paths are named again, as `status` without names
 * reports the shipped pipelines only.
 */
export function statusCommand(names: readonly string[]): string {
  const modules = names.filter((name) => !isShippedPipeline(name));
  return [
    'npx shardflow status',
    ...modules.map((name) => (/^[\w@%+=:,./-]+$/.test(name) ? name : JSON.stringify(name))),
  ].join(' ');
}

/**
 * Records the session's cloud and deployment, serves the console of `pipeline` (port 4567, else a free
 * one), prints how to use both, and resolves once SIGINT, SIGTERM or SIGHUP arrives, after stopping the
 * console and removing the records again. The caller stops the session afterwards.
 */
export async function keepCloudRunning(
  session: Pick<
    LocalSession,
    'cloud' | 'outputs' | 'clients' | 'bucket' | 'stateTable' | 'streamOf' | 'templatePath'
  >,
  command: Exclude<CloudOwner, 'local up'>,
  pipeline: CompiledPipeline<unknown>,
  print: (line: string) => void,
  /** The pipelines as the command line named them, for the `status` hint (none: the shipped default). */
  names: readonly string[] = [],
): Promise<void> {
  const { cloud } = session;
  // A publish-only pipeline has no result table to query.
  const table = pipeline.spec.sink?.table;
  const existing = await readState().catch(() => undefined);
  // Another live cloud keeps its record (its commands still find it); ours is then reached by endpoint.
  const recordState = existing === undefined || !(await ownerAlive(existing));
  if (recordState)
    await writeState({
      pid: process.pid,
      endpoint: cloud.endpoint,
      endpoints: cloud.endpoints,
      pids: cloud.pids,
      startedAt: new Date().toISOString(),
      command,
      kinesis: cloud.kinesisEmulator,
    });
  // The template too, as `deploy --local` records it: `query` reads its tables' columns (0 rows before a window).
  writeOutputs({
    ...session.outputs,
    [ENDPOINT_OUTPUT]: cloud.endpoint,
    [TEMPLATE_OUTPUT]: session.templatePath,
  });
  const reach = recordState ? '' : `AWS_ENDPOINT_URL=${cloud.endpoint} `;
  // The console is a convenience: a cloud that is kept matters more than a page that could not start.
  const page: RunningConsole | undefined = await openConsole(
    {
      endpoint: cloud.endpoint,
      clients: session.clients,
      bucket: session.bucket,
      stateTable: session.stateTable,
      pipelines: [{ pipeline, stream: session.streamOf(pipeline.spec) }],
    },
    { port: DEFAULT_CONSOLE_PORT, fallbackToFreePort: true },
  ).catch((error: unknown) => {
    print(`(the console did not start: ${errorLine(error)})`);
    return undefined;
  });
  const stopped = untilInterrupted();
  print(
    `\nThe local cloud keeps running at ${cloud.endpoint}.` +
      (page === undefined ? '' : `\nConsole (a live view of ${pipeline.spec.name}): ${page.url}`) +
      `\nIn another terminal:\n` +
      (table === undefined ? '' : `  ${reach}npx shardflow query "SELECT * FROM ${table} LIMIT 10"\n`) +
      `  ${reach}${statusCommand(names)}\n` +
      `Press Ctrl-C to stop. ("npx shardflow local down" in another terminal does the same.)`,
  );
  await stopped;
  await page?.close();
  removeOutputs();
  if (recordState) await removeState();
}
