import type { AttemptOutputs } from '../../../../functions/core/state/attemptOutputs';
import { InMemoryStateStore, InMemoryStateTables } from '../../../../functions/core/state/InMemoryStateStore';
import { fixedWindowRule } from '../../../../functions/core/state/pendingWindows';
import { Tick } from '../../../../functions/core/state/Tick';
import type { StatefulPipeline } from '../../../../functions/core/state/types';
import { pageActivity } from '../../../../functions/pipelines/pageActivity';

/** A tick whose every close pass emits one window and takes one second of its clock. */
function slowPasses() {
  let now = 1_767_225_600_000;
  let passes = 0;
  const tick = new Tick({
    pipeline: pageActivity as unknown as StatefulPipeline,
    store: new InMemoryStateStore({ tables: new InMemoryStateTables() }),
    clock: { now: () => now },
    expectedShards: 0,
    closer: {
      close: async () => {
        passes++;
        now += 1_000;
        return 1;
      },
    },
    rule: fixedWindowRule(30_000),
    attempts: { sweepIdle: async () => false } as unknown as AttemptOutputs,
    windowed: true,
  });
  return { tick, start: now, passes: () => passes };
}

describe('Tick close passes and the function timeout', () => {
  test('when passesUntil is given, no close pass starts at or after it (the first always runs)', async () => {
    const { tick, start, passes } = slowPasses();
    expect(await tick.run(undefined, { passesUntil: start + 3_500 })).toMatchObject({ windowsEmitted: 4 });
    expect(passes()).toBe(4);

    const late = slowPasses();
    expect(await late.tick.run(undefined, { passesUntil: late.start - 1 })).toMatchObject({
      windowsEmitted: 1,
    });
  });

  test('without passesUntil (end of bounded input, drains), passes run while they emit, up to the pass limit', async () => {
    const { tick, passes } = slowPasses();
    expect(await tick.run(undefined)).toMatchObject({ windowsEmitted: 100 });
    expect(passes()).toBe(100);
  });
});
