/**
 * The drain of `shardflow deploy --drain` against AWS (`functions/core/state/drain.ts`): the deployed (old)
 * tick function of a pipeline, invoked with a drain request, after the pipeline's consumers are paused.
 *
 * Pausing: every event source mapping of the pipeline's operator function is disabled
 * (`UpdateEventSourceMapping Enabled=false`) and polled until Lambda reports it `Disabled`; records sent
 * meanwhile wait on the stream. They stay paused through the deploy, so the old functions cannot open
 * windows the new definition would refuse, and are enabled again afterwards (`resume`, also when the
 * deploy fails: the old functions then go on, and treat records of drained windows as late). A batch
 * still in flight when the pause lands cannot break exactly-once: its commit is conditioned on the close
 * mark it read, which the drain raised, and the gate checks again after the drain.
 *
 * The functions are found by the stack outputs the last deploy recorded (`OperatorFunction<Pipeline>`,
 * `TickFunction<Pipeline>`, written by `ShardflowPipeline`).
 */
import {
  GetEventSourceMappingCommand,
  InvokeCommand,
  ListEventSourceMappingsCommand,
  ResourceNotFoundException,
  UpdateEventSourceMappingCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { DRAIN_ACTION } from '../../functions/core/state/drain';
import { PIPELINE_OUTPUTS } from '../../lib/outputNames';
import type { DeploymentOutputs } from './localTarget';
import { DrainFailedError, readDrainAnswer, type WindowDrainer } from './upgradeGate';

export interface AwsDrainOptions {
  readonly lambda: LambdaClient;
  /** The outputs the last `shardflow deploy` recorded. */
  readonly outputs: DeploymentOutputs;
  /** How long a mapping may take to report `Disabled`. @default 5 minutes */
  readonly pauseTimeoutMs?: number;
  /** Between two polls of a mapping's state. @default 2 s */
  readonly pollMs?: number;
  /** One line of progress (e.g. to stderr). */
  readonly progress?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** A drainer through the deployed tick functions in AWS; `resume` enables again what it paused. */
export function awsDrainer(options: AwsDrainOptions): {
  readonly drain: WindowDrainer;
  resume(): Promise<void>;
} {
  const { lambda, outputs } = options;
  const pollMs = options.pollMs ?? 2000;
  const timeoutMs = options.pauseTimeoutMs ?? 5 * 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const now = options.now ?? Date.now;
  const progress = options.progress ?? (() => undefined);
  const paused: string[] = [];

  const named = (output: string, pipeline: string): string => {
    const name = outputs[output];
    if (name === undefined || name === '')
      throw new DrainFailedError(
        `The deployment outputs name no ${output}, so pipeline ${pipeline} cannot be drained (deployed by an older shardflow?): deploy the old definition once more with this version, then deploy the new one with --drain`,
      );
    return name;
  };

  const pause = async (pipeline: string, operator: string): Promise<void> => {
    const uuids: string[] = [];
    let marker: string | undefined;
    do {
      const page = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: operator, ...(marker ? { Marker: marker } : {}) }),
      );
      for (const mapping of page.EventSourceMappings ?? [])
        if (mapping.UUID !== undefined && mapping.State !== 'Disabled') uuids.push(mapping.UUID);
      marker = page.NextMarker;
    } while (marker !== undefined);
    for (const uuid of uuids) {
      await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }));
      paused.push(uuid);
    }
    const deadline = now() + timeoutMs;
    for (const uuid of uuids) {
      for (;;) {
        const { State: state } = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
        if (state === 'Disabled') break;
        if (now() >= deadline)
          throw new DrainFailedError(
            `Event source mapping ${uuid} of pipeline ${pipeline} is still ${state ?? 'in an unknown state'} after ${Math.round(timeoutMs / 1000)} s; nothing was drained or deployed: deploy again with --drain once it shows Disabled`,
          );
        progress(`pausing ${pipeline}: mapping ${uuid} is ${state ?? '?'}`);
        await sleep(pollMs);
      }
    }
    progress(`paused ${uuids.length} event source mapping${uuids.length === 1 ? '' : 's'} of ${pipeline}`);
  };

  const drain: WindowDrainer = async (pipeline, atLeast) => {
    const operator = named(PIPELINE_OUTPUTS.operatorFunction(pipeline), pipeline);
    const tick = named(PIPELINE_OUTPUTS.tickFunction(pipeline), pipeline);
    await pause(pipeline, operator);
    const request = { action: DRAIN_ACTION, ...(atLeast === undefined ? {} : { atLeast }) };
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: tick,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
    const text = answer.Payload === undefined ? '' : new TextDecoder().decode(answer.Payload);
    if (answer.FunctionError !== undefined) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
        message = `${String(parsed.errorType)}: ${String(parsed.errorMessage)}`;
      } catch {
        // not JSON: keep the raw text
      }
      throw new DrainFailedError(
        `The drain of pipeline ${pipeline} failed (${message.split('\n')[0] ?? ''}); nothing was deployed: deploy again with --drain`,
      );
    }
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
    return readDrainAnswer(pipeline, payload);
  };

  const resume = async (): Promise<void> => {
    for (const uuid of paused.splice(0)) {
      try {
        await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));
      } catch (error) {
        // The deploy replaced the mapping: the new one is enabled as its template says.
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    }
  };

  return { drain, resume };
}
