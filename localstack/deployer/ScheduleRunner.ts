import { randomUUID } from 'node:crypto';
import type { FunctionDefinition, InvocationOutcome } from '../eventSourceMapping/types';
import type { SchedulePlan } from './types';

/** Anything that can invoke a function with an arbitrary event (`WorkerInvoker` can). */
export interface EventInvoker {
  invokeEvent(fn: FunctionDefinition, event: unknown, requestId: string): Promise<InvocationOutcome>;
}

/** The EventBridge "Scheduled Event" a rule target receives, or the target's constant Input. */
export function scheduledEvent(schedule: SchedulePlan, region: string, accountId: string, at: Date): unknown {
  if (schedule.input !== undefined) return JSON.parse(schedule.input) as unknown;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: accountId,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:${accountId}:rule/${schedule.logicalId}`],
    detail: {},
  };
}

/**
 * Fires the template's `rate(...)` schedules locally (the tick that advances idle shards and closes
 * windows). `cron(...)` schedules are not fired; `fire()` runs one schedule on demand (tests, CLI).
 */
export class ScheduleRunner {
  private timers: NodeJS.Timeout[] = [];

  public constructor(
    private readonly schedules: readonly SchedulePlan[],
    private readonly functions: readonly FunctionDefinition[],
    private readonly invoker: EventInvoker,
    private readonly env: {
      readonly region: string;
      readonly accountId: string;
      readonly log?: (message: string) => void;
    },
  ) {}

  /** Starts a timer per enabled rate schedule; `speedup` divides every period (e.g. 60 turns minutes into seconds). */
  public start(speedup = 1): void {
    for (const schedule of this.schedules) {
      if (!schedule.enabled || schedule.rateMs === undefined) continue;
      const timer = setInterval(
        () => void this.fire(schedule).catch((error: unknown) => this.env.log?.(String(error))),
        schedule.rateMs / speedup,
      );
      timer.unref();
      this.timers.push(timer);
    }
  }

  public stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Invokes a schedule's target once. */
  public async fire(schedule: SchedulePlan): Promise<InvocationOutcome> {
    const fn = this.functions.find((f) => f.functionName === schedule.functionName);
    if (fn === undefined)
      throw new Error(`schedule ${schedule.logicalId} targets unknown function ${schedule.functionName}`);
    const outcome = await this.invoker.invokeEvent(
      fn,
      scheduledEvent(schedule, this.env.region, this.env.accountId, new Date()),
      randomUUID(),
    );
    if (!outcome.ok)
      this.env.log?.(`scheduled invocation of ${fn.functionName} failed: ${outcome.errorMessage}`);
    return outcome;
  }
}
