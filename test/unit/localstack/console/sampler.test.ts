import { Sampler } from '../../../../localstack/console/sampler';

/** A source whose reads resolve only when the test says so. */
function controlledSource() {
  const pending: ((value: number) => void)[] = [];
  let calls = 0;
  return {
    read: () => {
      calls += 1;
      return new Promise<number>((resolve) => pending.push(resolve));
    },
    answer: (value: number) => pending.shift()?.(value),
    calls: () => calls,
  };
}

const options = {
  intervalMs: 60_000,
  capacity: 3,
  reduce: (value: number, at: number) => ({ value, at }),
  describeError: (error: unknown) => `failed: ${(error as Error).message}`,
};

describe('Sampler', () => {
  it('when reads are asked for while one runs, the source is read once', async () => {
    const source = controlledSource();
    const sampler = new Sampler(source.read, { ...options, now: () => 1_000 });
    const first = sampler.sampleOnce();
    const second = sampler.sampleOnce();
    expect(source.calls()).toBe(1);
    source.answer(7);
    await Promise.all([first, second]);
    expect(sampler.state()).toEqual({
      seq: 1,
      latest: { at: 1_000, tookMs: 0, value: 7 },
      history: [{ at: 1_000, point: { value: 7, at: 1_000 } }],
      error: undefined,
    });
  });

  it('when more samples than its capacity are taken, the history keeps the newest', async () => {
    let clock = 0;
    // The clock is read when a read starts and when it ends: reads start at 10, 30, 50, 70, 90.
    const sampler = new Sampler(async () => clock, { ...options, now: () => (clock += 10) });
    for (let i = 0; i < 5; i++) await sampler.sampleOnce();
    expect(sampler.state().history.map((h) => h.at)).toEqual([50, 70, 90]);
    expect(sampler.state().latest?.tookMs).toBe(10);
    expect(sampler.state().seq).toBe(5);
  });

  it('when a read fails, it keeps the last good sample and reports the failure until a read succeeds', async () => {
    let fail = false;
    const sampler = new Sampler(
      async () => {
        if (fail) throw new Error('connect ECONNREFUSED');
        return 1;
      },
      { ...options, now: () => 5 },
    );
    await sampler.sampleOnce();
    fail = true;
    await sampler.sampleOnce();
    expect(sampler.state()).toMatchObject({
      seq: 2,
      latest: { value: 1 },
      error: 'failed: connect ECONNREFUSED',
    });
    expect(sampler.state().history).toHaveLength(1);
    fail = false;
    await sampler.sampleOnce();
    expect(sampler.state().error).toBeUndefined();
  });

  it('when started, it reads in the background until stopped', async () => {
    let reads = 0;
    const sampler = new Sampler(async () => ++reads, { ...options, intervalMs: 5 });
    sampler.start();
    const deadline = Date.now() + 5_000;
    while (reads < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await sampler.stop();
    const stoppedAt = reads;
    await new Promise((r) => setTimeout(r, 30));
    expect(stoppedAt).toBeGreaterThanOrEqual(3);
    expect(reads).toBe(stoppedAt);
  });
});
