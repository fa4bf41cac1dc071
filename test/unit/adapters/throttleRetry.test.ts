import {
  throttledCancellation,
  ThrottleRetry,
  TransactionThrottled,
} from '../../../functions/adapters/throttleRetry';

/** A call that fails with `failures` in turn, then answers `ok`. */
function scripted(failures: readonly Error[]): { call: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    call: async () => {
      const failure = failures[n++];
      if (failure !== undefined) throw failure;
      return 'ok';
    },
    calls: () => n,
  };
}

const named = (name: string): Error => Object.assign(new Error(name), { name });

function retry(options: { maxAttempts?: number; random?: number; capMs?: number } = {}) {
  const delays: number[] = [];
  const instance = new ThrottleRetry({
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    backoff: { baseMs: 25, capMs: options.capMs ?? 2_000 },
    sleep: async (ms) => void delays.push(ms),
    random: () => options.random ?? 0.5,
  });
  return { instance, delays };
}

describe('ThrottleRetry', () => {
  it('when every throttling name of DynamoDB answers, the call is sent again and counted as a throttle', async () => {
    for (const name of [
      'ProvisionedThroughputExceededException',
      'ThrottlingException',
      'RequestLimitExceeded',
      'LimitExceededException',
    ]) {
      const { instance } = retry();
      const counts = { requests: 0, throttles: 0 };
      const { call, calls } = scripted([named(name)]);
      await expect(instance.send(call, counts)).resolves.toBe('ok');
      expect(calls()).toBe(2);
      expect(counts).toEqual({ requests: 2, throttles: 1 });
    }
  });

  it('when the error is not throttling, it reaches the caller after one request', async () => {
    const { instance, delays } = retry();
    const counts = { requests: 0, throttles: 0 };
    const { call, calls } = scripted([named('ConditionalCheckFailedException')]);
    await expect(instance.send(call, counts)).rejects.toThrow('ConditionalCheckFailedException');
    expect(calls()).toBe(1);
    expect(counts).toEqual({ requests: 1, throttles: 0 });
    expect(delays).toEqual([]);
  });

  it('when throttling goes on, it gives up after maxAttempts, waiting full jitter capped at the cap', async () => {
    const { instance, delays } = retry({ maxAttempts: 5, random: 0.999, capMs: 300 });
    const counts = { requests: 0, throttles: 0 };
    const { call } = scripted(Array.from({ length: 5 }, () => named('ThrottlingException')));
    await expect(instance.send(call, counts)).rejects.toThrow('ThrottlingException');
    // uniform in [0, min(300, 25 · 2^attempt)): 49, 99, 199, then the cap.
    expect(delays).toEqual([49, 99, 199, 299]);
    expect(counts).toEqual({ requests: 5, throttles: 4 });
  });

  it('when a transaction is throttled, the error it becomes is retried like any throttled call', async () => {
    expect(throttledCancellation([{ Code: 'None' }, { Code: 'ThrottlingError' }])).toBe(true);
    expect(throttledCancellation([{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }])).toBe(false);
    expect(throttledCancellation([{}])).toBe(false);
    const { instance } = retry();
    const counts = { requests: 0, throttles: 0 };
    const { call } = scripted([new TransactionThrottled(new Error('cancelled'))]);
    await expect(instance.send(call, counts)).resolves.toBe('ok');
    expect(counts.throttles).toBe(1);
  });

  it('when maxAttempts is out of range, construction fails naming the value', () => {
    for (const maxAttempts of [0, 21, 1.5]) {
      expect(() => new ThrottleRetry({ maxAttempts })).toThrow(
        `maxAttempts must be an integer between 1 and 20 inclusive (given ${maxAttempts})`,
      );
    }
  });
});
