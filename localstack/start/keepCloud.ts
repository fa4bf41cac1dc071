/**
 * `--keep` of `start` and `run`: the local cloud stays up after the run, recorded where every other
 * command looks for a cloud (`.shardflow/local.json` like `local up`, and the stack outputs in
 * `.shardflow/outputs.json`), until Ctrl-C or `shardflow local down`.
 */
import { ownerAlive, readState, removeState, writeState, type CloudOwner } from '../emulators/stateFile';
import type { LocalSession } from './localSession';
import { ENDPOINT_OUTPUT, removeOutputs, writeOutputs } from './localTarget';

/**
 * Records the session's cloud and deployment, prints how to use it, and resolves once SIGINT, SIGTERM or
 * SIGHUP arrives, after removing the records again. The caller stops the session afterwards.
 */
export async function keepCloudRunning(
  session: Pick<LocalSession, 'cloud' | 'outputs'>,
  command: Exclude<CloudOwner, 'local up'>,
  table: string,
  print: (line: string) => void,
): Promise<void> {
  const { cloud } = session;
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
  writeOutputs({ ...session.outputs, [ENDPOINT_OUTPUT]: cloud.endpoint });
  const reach = recordState ? '' : `AWS_ENDPOINT_URL=${cloud.endpoint} `;
  print(
    `\nThe local cloud keeps running at ${cloud.endpoint}. In another terminal:\n` +
      `  ${reach}npx shardflow query "SELECT * FROM ${table} LIMIT 10"\n` +
      `  ${reach}npx shardflow status\n` +
      `Press Ctrl-C to stop. ("npx shardflow local down" in another terminal does the same.)`,
  );
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve());
  });
  removeOutputs();
  if (recordState) await removeState();
}
