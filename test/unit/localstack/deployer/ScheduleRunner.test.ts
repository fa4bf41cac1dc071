import {
  ScheduleRunner,
  scheduledEvent,
  type EventInvoker,
} from '../../../../localstack/deployer/ScheduleRunner';
import type { SchedulePlan } from '../../../../localstack/deployer/types';
import type { FunctionDefinition } from '../../../../localstack/eventSourceMapping/types';
import { TEST_FUNCTION } from '../../../helpers/fixtures/esmHarness';

class RecordingInvoker implements EventInvoker {
  public readonly events: { fn: string; event: unknown }[] = [];
  public async invokeEvent(fn: FunctionDefinition, event: unknown) {
    this.events.push({ fn: fn.functionName, event });
    return { ok: true as const, payload: null };
  }
}

const tick: SchedulePlan = {
  logicalId: 'Tick',
  expression: 'rate(1 minute)',
  rateMs: 60_000,
  functionName: TEST_FUNCTION.functionName,
  enabled: true,
};

describe('ScheduleRunner', () => {
  it('when a schedule has no Input, it sends an EventBridge Scheduled Event', () => {
    expect(scheduledEvent(tick, 'eu-west-1', '000000000000', new Date('2026-01-02T03:04:05.678Z'))).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-01-02T03:04:05Z',
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:000000000000:rule/Tick'],
      detail: {},
    });
  });

  it('when a schedule has a constant Input, it sends that JSON', async () => {
    const invoker = new RecordingInvoker();
    const runner = new ScheduleRunner([{ ...tick, input: '{"tick":true}' }], [TEST_FUNCTION], invoker, {
      region: 'us-east-1',
      accountId: '000000000000',
    });
    await runner.fire({ ...tick, input: '{"tick":true}' });
    expect(invoker.events).toEqual([{ fn: TEST_FUNCTION.functionName, event: { tick: true } }]);
  });

  it('when started with a speed-up, it fires enabled rate schedules at the shortened period and stops when told', async () => {
    const invoker = new RecordingInvoker();
    const runner = new ScheduleRunner(
      [tick, { ...tick, logicalId: 'Off', enabled: false }],
      [TEST_FUNCTION],
      invoker,
      { region: 'us-east-1', accountId: '000000000000' },
    );
    runner.start(60_000 / 20); // one minute becomes 20 ms
    await new Promise((resolve) => setTimeout(resolve, 110));
    runner.stop();
    const fired = invoker.events.length;
    expect(fired).toBeGreaterThanOrEqual(2);
    expect(
      invoker.events.every((e) => (e.event as { resources: string[] }).resources[0]?.endsWith('/Tick')),
    ).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(invoker.events.length).toBe(fired);
  });
});
