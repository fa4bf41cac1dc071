import { PutRecordsCommand, type KinesisClient, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { InputError, SendError } from '../../../../localstack/start/errors';
import type { InputRecord } from '../../../../localstack/start/inputFile';
import { planBatches, sendRecords } from '../../../../localstack/start/sendRecords';

const records = (n: number, size = 10): InputRecord[] =>
  Array.from({ length: n }, (_, i) => ({ data: `${i}`.padEnd(size, 'x'), partitionKey: `k${i % 7}` }));

/** A Kinesis stub: `fail(entryIndex, attempt)` decides which entries of each call fail. */
function stubKinesis(fail: (data: string, attempt: number) => boolean = () => false) {
  const calls: PutRecordsCommand['input'][] = [];
  const attempts = new Map<string, number>();
  const kinesis = {
    send: async (command: PutRecordsCommand): Promise<Partial<PutRecordsCommandOutput>> => {
      calls.push(command.input);
      const entries = command.input.Records ?? [];
      return {
        Records: entries.map((e) => {
          const data = new TextDecoder().decode(e.Data);
          const attempt = (attempts.get(data) ?? 0) + 1;
          attempts.set(data, attempt);
          return fail(data, attempt)
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
            : { ShardId: 'shardId-000000000000', SequenceNumber: '1' };
        }),
        FailedRecordCount: 0,
      };
    },
  } as unknown as Pick<KinesisClient, 'send'>;
  return { kinesis, calls };
}

describe('planBatches', () => {
  it('when there are more than 500 records, it splits them into batches of at most 500 in order', () => {
    const batches = planBatches(records(1203));
    expect(batches.map((b) => b.length)).toEqual([500, 500, 203]);
    expect(new TextDecoder().decode(batches[1]?.[0]?.Data)).toMatch(/^500x*/);
    expect(batches[2]?.[202]?.PartitionKey).toBe(`k${1202 % 7}`);
  });

  it('when records are large, it keeps each batch within 5 MiB including partition keys', () => {
    const big = records(30, 400_000); // 30 × ~400 KB = ~12 MB
    const batches = planBatches(big);
    for (const batch of batches) {
      const bytes = batch.reduce((s, e) => s + (e.Data?.byteLength ?? 0) + (e.PartitionKey?.length ?? 0), 0);
      expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
    expect(batches.map((b) => b.length)).toEqual([13, 13, 4]);
  });

  it('when a single record exceeds 1 MiB, it refuses it with a one-line error naming the record', () => {
    expect(() => planBatches([...records(2), { data: 'x'.repeat(1024 * 1024), partitionKey: 'k' }])).toThrow(
      new InputError('Record 3 is 1048577 bytes; Kinesis accepts at most 1048576 per record'),
    );
  });
});

describe('sendRecords', () => {
  it('when Kinesis accepts everything, it puts every record once, in order, to the named stream', async () => {
    const { kinesis, calls } = stubKinesis();
    const progress: number[] = [];
    const result = await sendRecords(records(1100), {
      kinesis,
      stream: 'clicks',
      onProgress: (p) => progress.push(p.sent),
    });
    expect(result).toEqual({ sent: 1100, total: 1100, retried: 0 });
    expect(calls.map((c) => c.Records?.length)).toEqual([500, 500, 100]);
    expect(calls[0]).toMatchObject({ StreamName: 'clicks' });
    expect(progress).toEqual([500, 1000, 1100]);
  });

  it('when the stream is an ARN, it addresses it by StreamARN', async () => {
    const { kinesis, calls } = stubKinesis();
    await sendRecords(records(1), {
      kinesis,
      stream: 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks',
    });
    expect(calls[0]).toMatchObject({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/clicks' });
    expect(calls[0]?.StreamName).toBeUndefined();
  });

  it('when some entries fail, it retries only those with backoff until they are accepted', async () => {
    const { kinesis, calls } = stubKinesis((data, attempt) => data.startsWith('3') && attempt <= 2);
    const sleeps: number[] = [];
    const result = await sendRecords(records(40), {
      kinesis,
      stream: 's',
      sleep: async (ms) => void sleeps.push(ms),
    });
    const failing = records(40).filter((r) => r.data.startsWith('3')).length;
    expect(result).toEqual({ sent: 40, total: 40, retried: 2 * failing });
    expect(calls.map((c) => c.Records?.length)).toEqual([40, failing, failing]);
    expect(sleeps).toEqual([100, 200]);
  });

  it('when entries keep failing, it gives up after maxAttempts with a SendError counting the unsent', async () => {
    const { kinesis } = stubKinesis((data) => data.startsWith('1'));
    const error = await sendRecords(records(20), {
      kinesis,
      stream: 's',
      maxAttempts: 3,
      sleep: async () => {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendError);
    expect((error as SendError).failed).toBe(11);
    expect((error as Error).message).toBe(
      '11 records still failing after 3 attempts (ProvisionedThroughputExceededException: Rate exceeded)',
    );
  });

  it('when a rate is given, it paces batches so the records take total/rate seconds', async () => {
    const { kinesis, calls } = stubKinesis();
    let clock = 0;
    const sleeps: number[] = [];
    await sendRecords(records(100), {
      kinesis,
      stream: 's',
      rate: 40,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    expect(calls.map((c) => c.Records?.length)).toEqual(new Array(10).fill(10));
    expect(sleeps).toHaveLength(9);
    expect(clock).toBe(2250); // the 10th batch starts after 90 records at 40/s
  });

  it('when the request itself fails, it throws a one-line SendError', async () => {
    const kinesis = {
      send: async () => {
        throw Object.assign(new Error('Stream nope under account 000000000000 not found.'), {
          name: 'ResourceNotFoundException',
        });
      },
    } as unknown as Pick<KinesisClient, 'send'>;
    await expect(sendRecords(records(3), { kinesis, stream: 'nope' })).rejects.toThrow(
      'PutRecords to nope failed: ResourceNotFoundException: Stream nope under account 000000000000 not found.',
    );
  });
});
