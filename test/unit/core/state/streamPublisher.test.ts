import type { PublishEntry } from '../../../../functions/core/engine/streamTap';
import { PublishError } from '../../../../functions/core/state/errors';
import {
  MAX_PUT_BYTES,
  putChunks,
  StreamPublisher,
  type StreamPutter,
} from '../../../../functions/core/state/streamPublisher';

const entry = (n: number, bytes = 10): PublishEntry => ({
  partitionKey: `k${n}`,
  data: JSON.stringify({ id: String(n), pad: 'x'.repeat(bytes) }),
});

/** A stream that refuses the entries `refuse` names on each put (by attempt), and records what landed. */
function scriptedStream(refuse: (entry: PublishEntry, attempt: number) => boolean | 'throw') {
  const landed: PublishEntry[] = [];
  const requests: number[] = [];
  const attempts = new Map<string, number>();
  const putter: StreamPutter = {
    putRecords: async (_stream, entries) => {
      requests.push(entries.length);
      const refused: number[] = [];
      entries.forEach((e, i) => {
        const attempt = (attempts.get(e.data) ?? 0) + 1;
        attempts.set(e.data, attempt);
        const verdict = refuse(e, attempt);
        if (verdict === 'throw') throw new Error('connection reset');
        if (verdict) refused.push(i);
        else landed.push(e);
      });
      return refused;
    },
  };
  return { putter, landed, requests };
}

const noWait = { sleep: async () => undefined };

describe('StreamPublisher', () => {
  it('when the stream refuses some entries of a put, only those are put again until they land', async () => {
    const stream = scriptedStream((e, attempt) => Number(JSON.parse(e.data).id) % 3 === 0 && attempt < 3);
    const waits: number[] = [];
    const publisher = new StreamPublisher(stream.putter, 'out', {
      backoffMs: 10,
      sleep: async (ms) => void waits.push(ms),
    });
    const entries = Array.from({ length: 10 }, (_, i) => entry(i));
    await publisher.publish(entries);
    expect(stream.landed.map((e) => e.data).sort()).toEqual(entries.map((e) => e.data).sort());
    expect(stream.requests).toEqual([10, 4, 4]);
    // After a put the stream took part of, the first wait; after one it took nothing of, the doubling goes on.
    expect(waits).toEqual([10, 10]);
  });

  it('with the default retries, a 2,000-value batch lands in a one-shard stream that takes 1,000 records a second', async () => {
    let now = 0;
    const taken = new Map<number, number>();
    const putter: StreamPutter = {
      putRecords: async (_stream, entries) => {
        const second = Math.floor(now / 1000);
        const room = 1000 - (taken.get(second) ?? 0);
        taken.set(second, (taken.get(second) ?? 0) + Math.min(room, entries.length));
        return entries.map((_, i) => i).filter((i) => i >= room);
      },
    };
    const publisher = new StreamPublisher(putter, 'out', { sleep: async (ms) => void (now += ms) });
    await publisher.publish(Array.from({ length: 2000 }, (_, i) => entry(i)));
    expect([...taken.values()].reduce((a, b) => a + b, 0)).toBe(2000);
    expect(now).toBeLessThan(6000);
  });

  it('when a batch is larger than a one-shard stream takes within the retries, it still lands: each put the stream takes part of starts the count again', async () => {
    let now = 0;
    const taken = new Map<number, number>();
    const putter: StreamPutter = {
      putRecords: async (_stream, entries) => {
        now += 30;
        const second = Math.floor(now / 1000);
        const room = Math.max(0, 1000 - (taken.get(second) ?? 0));
        taken.set(second, (taken.get(second) ?? 0) + Math.min(room, entries.length));
        return entries.map((_, i) => i).filter((i) => i >= room);
      },
    };
    const publisher = new StreamPublisher(putter, 'out', { sleep: async (ms) => void (now += ms) });
    await publisher.publish(Array.from({ length: 15_000 }, (_, i) => entry(i)));
    expect([...taken.values()].reduce((a, b) => a + b, 0)).toBe(15_000);
    // About the 15 s the shard needs for it.
    expect(now).toBeLessThan(20_000);
  });

  it('when entries are still refused after the last attempt, it throws PublishError naming how many', async () => {
    const stream = scriptedStream((e) => e.partitionKey === 'k1');
    const publisher = new StreamPublisher(stream.putter, 'out', { ...noWait, maxAttempts: 3 });
    const error = await publisher.publish([entry(0), entry(1), entry(2)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).message).toBe(
      '1 of 3 records to stream out were refused by 3 puts in a row that it took none of; the batch is retried',
    );
    expect((error as PublishError).code).toBe('PUBLISH');
    // The first put took two of the three: three more that took nothing end it.
    expect(stream.requests).toEqual([3, 1, 1, 1]);
  });

  it('when a put throws, its whole request counts as refused and is put again', async () => {
    const stream = scriptedStream((_e, attempt) => (attempt === 1 ? 'throw' : false));
    await new StreamPublisher(stream.putter, 'out', noWait).publish([entry(0), entry(1)]);
    // A put that threw may have landed some of its entries: they land again (at least once).
    expect(new Set(stream.landed.map((e) => e.partitionKey))).toEqual(new Set(['k0', 'k1']));
    expect(stream.requests).toEqual([2, 2, 2]);
    const failing = scriptedStream(() => 'throw');
    const error = await new StreamPublisher(failing.putter, 'out', { ...noWait, maxAttempts: 2 })
      .publish([entry(0)])
      .catch((e: unknown) => e);
    expect((error as Error).cause).toEqual(new Error('connection reset'));
  });

  it('when nothing is to be published, it puts nothing', async () => {
    const stream = scriptedStream(() => false);
    await new StreamPublisher(stream.putter, 'out').publish([]);
    expect(stream.requests).toEqual([]);
  });

  it('when options are out of range, it names them', () => {
    const { putter } = scriptedStream(() => false);
    expect(() => new StreamPublisher(putter, 'out', { maxAttempts: 0 })).toThrow(
      'maxAttempts must be an integer between 1 and 20 inclusive (given 0)',
    );
    expect(() => new StreamPublisher(putter, 'out', { backoffMs: -1 })).toThrow(
      'backoffMs must be an integer between 0 and 10000 inclusive (given -1)',
    );
  });
});

describe('putChunks', () => {
  it('when entries exceed 500 records or 5 MiB, requests are cut in order within both limits', () => {
    const many = Array.from({ length: 1201 }, (_, i) => entry(i));
    expect(putChunks(many).map((c) => c.length)).toEqual([500, 500, 201]);
    expect(putChunks(many).flat()).toEqual(many);
    const big = Array.from({ length: 12 }, (_, i) => entry(i, 1024 * 1024 - 100));
    const chunks = putChunks(big);
    expect(chunks.map((c) => c.length)).toEqual([5, 5, 2]);
    for (const chunk of chunks)
      expect(chunk.reduce((n, e) => n + e.data.length + e.partitionKey.length, 0)).toBeLessThanOrEqual(
        MAX_PUT_BYTES,
      );
  });
});
