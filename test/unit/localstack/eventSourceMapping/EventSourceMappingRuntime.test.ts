import { createHarness, TEST_FUNCTION, type Harness } from '../../../helpers/fixtures/esmHarness';
import { FakeKinesis } from '../../../helpers/fixtures/FakeKinesis';
import { KINESIS_EVENT_RECORD_KEYS } from '../../../helpers/kinesisEventRecord';
import { MemoryCheckpointStore } from '../../../../localstack/eventSourceMapping/MemoryCheckpointStore';
import { subPartitionOf } from '../../../../localstack/eventSourceMapping/ShardPoller';

const range = (n: number, prefix = 'r'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('EventSourceMappingRuntime', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.runtime.stop();
    harness = undefined;
  });

  describe('event shape', () => {
    it('when records arrive, it invokes the function with a KinesisStreamEvent shaped like AWS', async () => {
      const kinesis = new FakeKinesis({ now: () => 1_700_000_000_123 });
      harness = createHarness({ kinesis });
      harness.kinesis.put(harness.streamArn, 'user-1', '{"a":1}');
      await harness.runtime.start();
      await harness.runtime.idle();
      const record = harness.invoker.calls[0]?.event.Records[0];
      const sequenceNumber = harness.kinesis.records(harness.streamArn)[0]?.sequenceNumber;
      expect(record).toEqual({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'user-1',
          sequenceNumber,
          data: Buffer.from('{"a":1}').toString('base64'),
          approximateArrivalTimestamp: 1_700_000_000.123,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: TEST_FUNCTION.roleArn,
        awsRegion: 'us-east-1',
        eventSourceARN: harness.streamArn,
      });
      expect(Object.keys(record ?? {})).toEqual(KINESIS_EVENT_RECORD_KEYS);
    });
  });

  describe('BatchSize', () => {
    it('when 25 records are waiting and BatchSize is 10, it invokes with batches of 10, 10 and 5 in order', async () => {
      harness = createHarness({ mapping: { batchSize: 10 } });
      harness.put(range(25), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data.length)).toEqual([10, 10, 5]);
      expect(harness.invoker.delivered()).toEqual(range(25));
    });

    it('when the shard is read to its tip and a full batch is still buffered, it does not poll again until the buffer runs short', async () => {
      const kinesis = new FakeKinesis();
      const callsAtInvoke: number[] = [];
      harness = createHarness({
        kinesis,
        mapping: { batchSize: 10 },
        handler: async () => {
          callsAtInvoke.push(kinesis.getRecordsCalls);
          await new Promise((resolve) => setTimeout(resolve, 60)); // 12 poll intervals
        },
      });
      harness.put(range(25), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data.length)).toEqual([10, 10, 5]);
      expect(harness.invoker.delivered()).toEqual(range(25));
      // During the first invocation 15 records (more than a batch) wait: at most the one poll that found the tip.
      expect((callsAtInvoke[1] ?? 0) - (callsAtInvoke[0] ?? 0)).toBeLessThanOrEqual(2);
    });

    it('when it reads, it asks GetRecords for one batch per sub-partition, so the first batch is not held behind 10,000 records', async () => {
      const kinesis = new FakeKinesis();
      harness = createHarness({ kinesis, mapping: { batchSize: 10 } });
      harness.put(range(25), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(new Set(kinesis.getRecordsLimits)).toEqual(new Set([10]));
      await harness.runtime.stop();

      const wide = new FakeKinesis();
      harness = createHarness({ kinesis: wide, mapping: { batchSize: 4_000, parallelizationFactor: 3 } });
      harness.put(['a']);
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(new Set(wide.getRecordsLimits)).toEqual(new Set([10_000]));
    });
  });

  describe('payload limit', () => {
    it('when records are large, it keeps each batch under the 6 MB invocation payload limit', async () => {
      harness = createHarness({ mapping: { batchSize: 100 } });
      const mb = 'x'.repeat(1024 * 1024);
      for (let i = 0; i < 10; i += 1) harness.kinesis.put(harness.streamArn, 'k', `${i}${mb}`);
      await harness.runtime.start();
      await harness.runtime.idle();
      const sizes = harness.invoker.calls.map((c) => JSON.stringify(c.event).length);
      expect(harness.invoker.calls.length).toBeGreaterThan(1);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(6 * 1024 * 1024);
      expect(harness.invoker.delivered().map((d) => d.charAt(0))).toEqual(
        range(10, '').map((_, i) => String(i)),
      );
    });
  });

  describe('MaximumBatchingWindowInSeconds', () => {
    it('when the window is 1 s and records trickle in, it gathers them into one batch', async () => {
      const kinesis = new FakeKinesis({ maxRecordsPerCall: 1 });
      harness = createHarness({ kinesis, mapping: { batchSize: 100, maximumBatchingWindowInSeconds: 1 } });
      harness.put(range(5), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data.length)).toEqual([5]);
    });

    it('when the window is 0, it invokes as soon as records are read', async () => {
      const kinesis = new FakeKinesis({ maxRecordsPerCall: 1 });
      harness = createHarness({ kinesis, mapping: { batchSize: 100, maximumBatchingWindowInSeconds: 0 } });
      harness.put(range(5), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.length).toBeGreaterThan(1);
      expect(harness.invoker.delivered()).toEqual(range(5));
    });

    it('when BatchSize records are buffered before the window ends, it invokes without waiting for the window', async () => {
      harness = createHarness({ mapping: { batchSize: 3, maximumBatchingWindowInSeconds: 300 } });
      harness.put(range(3), 'k');
      await harness.runtime.start();
      await harness.runtime.idle(5_000);
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([range(3)]);
    });
  });

  describe('StartingPosition', () => {
    it('when TRIM_HORIZON, it delivers records put before the start', async () => {
      harness = createHarness({ mapping: { startingPosition: 'TRIM_HORIZON' } });
      harness.put(['old']);
      await harness.runtime.start();
      await harness.runtime.idle();
      harness.put(['new']);
      await harness.runtime.idle();
      expect(harness.invoker.delivered()).toEqual(['old', 'new']);
    });

    it('when LATEST, it skips records put before the start and delivers later ones', async () => {
      harness = createHarness({ mapping: { startingPosition: 'LATEST' } });
      harness.put(['old']);
      await harness.runtime.start();
      await harness.runtime.idle();
      harness.put(['new']);
      await harness.runtime.idle();
      expect(harness.invoker.delivered()).toEqual(['new']);
    });

    it('when AT_TIMESTAMP, it starts at the first record that arrived at or after the timestamp', async () => {
      harness = createHarness({
        mapping: { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: 1_700_000_100 },
        before: (kinesis, arn) => {
          kinesis.put(arn, 'k', 'before', 1_700_000_099_999);
          kinesis.put(arn, 'k', 'at', 1_700_000_100_000);
          kinesis.put(arn, 'k', 'after', 1_700_000_100_001);
        },
      });
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.delivered()).toEqual(['at', 'after']);
    });
  });

  describe('ParallelizationFactor', () => {
    it('when the factor is 4, it runs concurrent batches per shard and keeps each partition key in order', async () => {
      let active = 0;
      let maxActive = 0;
      harness = createHarness({
        mapping: { parallelizationFactor: 4, batchSize: 5 },
        handler: async () => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 5));
          active -= 1;
        },
      });
      const keys = range(12, 'key-');
      for (let i = 0; i < 10; i += 1)
        for (const key of keys) harness.kinesis.put(harness.streamArn, key, `${key}:${i}`);
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(maxActive).toBeGreaterThan(1);
      expect(maxActive).toBeLessThanOrEqual(4);
      const delivered = harness.invoker.delivered();
      expect(delivered).toHaveLength(120);
      for (const key of keys) {
        expect(delivered.filter((d) => d.startsWith(`${key}:`))).toEqual(
          Array.from({ length: 10 }, (_, i) => `${key}:${i}`),
        );
      }
      // Each batch holds the records of one sub-partition only.
      for (const call of harness.invoker.calls) {
        expect(new Set(call.partitionKeys.map((key) => subPartitionOf(key, 4))).size).toBe(1);
      }
    });

    it('when the factor is 1, it never runs two batches of a shard at once', async () => {
      let active = 0;
      let maxActive = 0;
      harness = createHarness({
        mapping: { parallelizationFactor: 1, batchSize: 2 },
        handler: async () => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 2));
          active -= 1;
        },
      });
      for (let i = 0; i < 20; i += 1) harness.kinesis.put(harness.streamArn, `key-${i}`, `v${i}`);
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(maxActive).toBe(1);
      expect(harness.invoker.delivered()).toEqual(range(20, 'v'));
    });
  });

  describe('BisectBatchOnFunctionError', () => {
    const poison = (event: { Records: { kinesis: { data: string } }[] }): void => {
      if (event.Records.some((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'r5'))
        throw new Error('poison');
    };

    it('when a batch fails and bisection is on, it splits the batch until the bad record is isolated', async () => {
      harness = createHarness({
        mapping: { batchSize: 8, bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
        handler: poison,
      });
      harness.put(range(8), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([
        range(8),
        ['r0', 'r1', 'r2', 'r3'],
        ['r4', 'r5', 'r6', 'r7'],
        ['r4', 'r5'],
        ['r4'],
        ['r5'],
        ['r6', 'r7'],
      ]);
      expect(harness.destination.sent.map((s) => s.record.KinesisBatchInfo.batchSize)).toEqual([1]);
    });

    it('when bisection is off, it retries the whole batch', async () => {
      harness = createHarness({
        mapping: { batchSize: 8, bisectBatchOnFunctionError: false, maximumRetryAttempts: 1 },
        handler: poison,
      });
      harness.put(range(8), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([range(8), range(8)]);
      expect(harness.destination.sent.map((s) => s.record.KinesisBatchInfo.batchSize)).toEqual([8]);
    });
  });

  describe('MaximumRetryAttempts', () => {
    it('when the function keeps failing with 2 retries, it invokes 3 times then discards and moves on', async () => {
      harness = createHarness({
        mapping: { batchSize: 2, maximumRetryAttempts: 2 },
        handler: (event) => {
          if (Buffer.from(event.Records[0]?.kinesis.data ?? '', 'base64').toString() === 'r0')
            throw new Error('boom');
        },
      });
      harness.put(range(4), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([
        ['r0', 'r1'],
        ['r0', 'r1'],
        ['r0', 'r1'],
        ['r2', 'r3'],
      ]);
      expect(harness.destination.sent[0]?.record.requestContext).toMatchObject({
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      });
    });

    it('when retries are infinite (-1), it keeps retrying and blocks the shard', async () => {
      harness = createHarness({
        mapping: { batchSize: 1, maximumRetryAttempts: -1 },
        handler: () => {
          throw new Error('down');
        },
      });
      harness.put(['a', 'b']);
      await harness.runtime.start();
      await expect(harness.runtime.idle(300)).rejects.toThrow('not idle');
      expect(harness.invoker.calls.length).toBeGreaterThan(5);
      expect(new Set(harness.invoker.calls.map((c) => c.data[0]))).toEqual(new Set(['a']));
      expect(harness.destination.sent).toEqual([]);
    });
  });

  describe('stop', () => {
    it('when stopped while retrying with a long back-off, it stops promptly without discarding the records', async () => {
      harness = createHarness({
        mapping: { maximumRetryAttempts: 5 },
        runtime: { retryBackoffMs: 60_000 },
        handler: () => {
          throw new Error('down');
        },
      });
      harness.put(['a']);
      await harness.runtime.start();
      await expect(harness.runtime.idle(100)).rejects.toThrow('not idle');
      const started = performance.now();
      await harness.runtime.stop();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(harness.invoker.calls).toHaveLength(1);
      expect(harness.destination.sent).toEqual([]);
      expect(await harness.checkpoints.get(harness.checkpointKey, 'shardId-000000000000')).toBeUndefined();
      harness = undefined;
    });
  });

  describe('MaximumRecordAgeInSeconds', () => {
    it('when records are older than the maximum age, it discards them to the destination without invoking', async () => {
      const now = 1_800_000_000_000;
      harness = createHarness({
        mapping: { maximumRecordAgeInSeconds: 60 },
        runtime: { now: () => now },
        before: (kinesis, arn) => {
          kinesis.put(arn, 'k', 'stale', now - 61_000);
          kinesis.put(arn, 'k', 'fresh', now - 59_000);
        },
      });
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.delivered()).toEqual(['fresh']);
      expect(harness.destination.sent.map((s) => s.record.requestContext.condition)).toEqual([
        'RecordAgeExceeded',
      ]);
      expect(harness.destination.sent[0]?.record.KinesisBatchInfo.batchSize).toBe(1);
    });

    it('when records age past the maximum while being retried, it stops retrying them', async () => {
      let now = 1_800_000_000_000;
      harness = createHarness({
        mapping: { maximumRecordAgeInSeconds: 60, maximumRetryAttempts: -1 },
        runtime: { now: () => now },
        handler: () => {
          now += 30_000;
          throw new Error('down');
        },
        before: (kinesis, arn) => kinesis.put(arn, 'k', 'x', now),
      });
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls).toHaveLength(3);
      expect(harness.destination.sent.map((s) => s.record.requestContext.condition)).toEqual([
        'RecordAgeExceeded',
      ]);
    });
  });

  describe('ReportBatchItemFailures', () => {
    it('when the function reports failed items, it retries from the lowest reported sequence number', async () => {
      let failed = false;
      harness = createHarness({
        mapping: { batchSize: 5, functionResponseTypes: ['ReportBatchItemFailures'] },
        handler: (event) => {
          if (failed) return { batchItemFailures: [] };
          failed = true;
          const ids = event.Records.map((r) => r.kinesis.sequenceNumber);
          return {
            batchItemFailures: [
              { itemIdentifier: ids[3] },
              { itemIdentifier: ids[1] },
              { itemIdentifier: ids[4] },
            ],
          };
        },
      });
      harness.put(range(5), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([range(5), ['r1', 'r2', 'r3', 'r4']]);
    });

    it('when the response has an empty itemIdentifier, it retries the whole batch', async () => {
      let calls = 0;
      harness = createHarness({
        mapping: { batchSize: 3, functionResponseTypes: ['ReportBatchItemFailures'] },
        handler: () => (calls++ === 0 ? { batchItemFailures: [{ itemIdentifier: '' }] } : null),
      });
      harness.put(range(3), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([range(3), range(3)]);
    });

    it('when ReportBatchItemFailures is not enabled, it ignores a batchItemFailures response', async () => {
      harness = createHarness({
        mapping: { batchSize: 3 },
        handler: (event) => ({
          batchItemFailures: [{ itemIdentifier: event.Records[0]?.kinesis.sequenceNumber }],
        }),
      });
      harness.put(range(3), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([range(3)]);
    });
  });

  describe('DestinationConfig.OnFailure', () => {
    it('when a batch exhausts its retries, it sends the invocation record with KinesisBatchInfo', async () => {
      harness = createHarness({
        kinesis: new FakeKinesis({ now: () => 1_700_000_000_000 }),
        mapping: { batchSize: 2, maximumRetryAttempts: 0 },
        handler: () => {
          throw new Error('boom');
        },
      });
      harness.put(['a', 'b'], 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      const [first, second] = harness.kinesis.records(harness.streamArn);
      expect(harness.destination.sent).toHaveLength(1);
      const sent = harness.destination.sent[0];
      expect(sent?.mappingUuid).toBe('mapping-1');
      expect(sent?.record).toEqual({
        requestContext: {
          requestId: expect.any(String),
          functionArn: TEST_FUNCTION.functionArn,
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 1,
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        KinesisBatchInfo: {
          shardId: 'shardId-000000000000',
          startSequenceNumber: first?.sequenceNumber,
          endSequenceNumber: second?.sequenceNumber,
          approximateArrivalOfFirstRecord: '2023-11-14T22:13:20.000Z',
          approximateArrivalOfLastRecord: '2023-11-14T22:13:20.000Z',
          batchSize: 2,
          streamArn: harness.streamArn,
        },
      });
      expect(sent?.event.Records.map((r) => r.kinesis.sequenceNumber)).toEqual([
        first?.sequenceNumber,
        second?.sequenceNumber,
      ]);
    });
    it('when a send to the destination fails (a transient outage), it retries the send and the shard keeps being processed', async () => {
      let destinationDown = true;
      harness = createHarness({
        mapping: { batchSize: 1, maximumRetryAttempts: 0 },
        handler: (event) => {
          if (Buffer.from(event.Records[0]?.kinesis.data ?? '', 'base64').toString() === 'poison')
            throw new Error('bad record');
        },
      });
      const send = harness.destination.send.bind(harness.destination);
      harness.destination.send = async (...args) => {
        if (destinationDown) {
          destinationDown = false;
          throw new Error('SQS SendMessage: ServiceUnavailable');
        }
        return send(...args);
      };
      harness.put(['poison', 'good-1', 'good-2'], 'k');
      await harness.runtime.start();
      await harness.runtime.idle(5_000);
      expect(harness.invoker.delivered()).toEqual(['good-1', 'good-2']);
      expect(harness.destination.sent.map((s) => s.record.KinesisBatchInfo.batchSize)).toEqual([1]);
    });
  });

  describe('a batch that fails unexpectedly', () => {
    it('when processing a batch throws (an onInvoke hook fails once), the shard goes on and the batch is delivered again', async () => {
      let hookFails = true;
      harness = createHarness({
        mapping: { batchSize: 1 },
        runtime: {
          hooks: {
            onInvoke: () => {
              if (!hookFails) return;
              hookFails = false;
              throw new Error('hook failed');
            },
          },
        },
      });
      harness.put(['a', 'b'], 'k');
      await harness.runtime.start();
      await harness.runtime.idle(5_000);
      expect(harness.invoker.delivered()).toEqual(['a', 'a', 'b']);
      expect(harness.runtime.lag()[0]?.checkpoint).toBe(
        harness.kinesis.records(harness.streamArn)[1]?.sequenceNumber,
      );
    });

    it('when the final invocation of a tumbling window throws once (an onInvoke hook), the shard goes on and later records are delivered', async () => {
      const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 180_000;
      let hookFails = true;
      harness = createHarness({
        mapping: { tumblingWindowInSeconds: 60, batchSize: 1 },
        handler: () => ({ state: {} }),
        runtime: {
          hooks: {
            onInvoke: (info) => {
              const final = (info.event as unknown as { isFinalInvokeForWindow?: boolean })
                .isFinalInvokeForWindow;
              if (final !== true || !hookFails) return;
              hookFails = false;
              throw new Error('hook failed');
            },
          },
        },
        before: (kinesis, arn) => void kinesis.put(arn, 'k', 'w0', t0),
      });
      await harness.runtime.start();
      const deadline = performance.now() + 3_000;
      while (hookFails && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(hookFails).toBe(false);
      harness.kinesis.put(harness.streamArn, 'k', 'w1', t0 + 60_000);
      await harness.runtime.idle(5_000);
      expect(harness.invoker.delivered()).toEqual(['w0', 'w1']);
    });
  });

  describe('FilterCriteria', () => {
    it('when records do not match the filter, it skips them and checkpoints past them', async () => {
      harness = createHarness({ mapping: { filterPatterns: ['{"data":{"kind":["click"]}}'] } });
      for (const kind of ['click', 'view', 'click', 'view'])
        harness.kinesis.putJson(harness.streamArn, 'k', { kind });
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.delivered()).toEqual(['{"kind":"click"}', '{"kind":"click"}']);
      const last = harness.kinesis.records(harness.streamArn)[3]?.sequenceNumber;
      expect(await harness.checkpoints.get(harness.checkpointKey, 'shardId-000000000000')).toEqual({
        sequenceNumber: last,
        ended: false,
      });
    });

    it('when the mapping has no filter patterns, it delivers every record without building filter views (no parse of their data)', async () => {
      // The filter view parses each record's data as JSON: count the parses of this data.
      const parse = jest.spyOn(JSON, 'parse');
      const parsesOfData = () => parse.mock.calls.filter(([text]) => text === '{"kind":"click"}').length;
      try {
        harness = createHarness();
        harness.put(['{"kind":"click"}', 'not json']);
        await harness.runtime.start();
        await harness.runtime.idle();
        expect(harness.invoker.delivered()).toEqual(['{"kind":"click"}', 'not json']);
        expect(parsesOfData()).toBe(0);
        await harness.runtime.stop();
        harness = createHarness({ mapping: { filterPatterns: ['{"data":{"kind":["click"]}}'] } });
        harness.put(['{"kind":"click"}', 'not json']);
        await harness.runtime.start();
        await harness.runtime.idle();
        expect(harness.invoker.delivered()).toEqual(['{"kind":"click"}']);
        expect(parsesOfData()).toBeGreaterThan(0);
      } finally {
        parse.mockRestore();
      }
    });
  });

  describe('checkpoints', () => {
    it('when the runtime restarts with the same checkpoint store, it resumes after the last processed record', async () => {
      const kinesis = new FakeKinesis();
      const checkpoints = new MemoryCheckpointStore();
      let arn = '';
      const first = createHarness({ kinesis, checkpoints, before: (_k, a) => (arn = a) });
      first.put(['a', 'b']);
      await first.runtime.start();
      await first.runtime.idle();
      await first.runtime.stop();
      kinesis.put(arn, 'k', 'c');
      const second = createHarness({ kinesis, checkpoints, mapping: { eventSourceArn: arn } });
      harness = second;
      await second.runtime.start();
      await second.runtime.idle();
      expect(first.invoker.delivered()).toEqual(['a', 'b']);
      expect(second.invoker.delivered()).toEqual(['c']);
    });

    it('when a batch failed before the restart, it redelivers it after the restart', async () => {
      const kinesis = new FakeKinesis();
      const checkpoints = new MemoryCheckpointStore();
      let arn = '';
      const first = createHarness({
        kinesis,
        checkpoints,
        mapping: { maximumRetryAttempts: -1 },
        handler: () => {
          throw new Error('down');
        },
        before: (_k, a) => (arn = a),
      });
      first.put(['a']);
      await first.runtime.start();
      await expect(first.runtime.idle(100)).rejects.toThrow('not idle');
      await first.runtime.stop();
      const second = createHarness({ kinesis, checkpoints, mapping: { eventSourceArn: arn } });
      harness = second;
      await second.runtime.start();
      await second.runtime.idle();
      expect(second.invoker.delivered()).toEqual(['a']);
    });
  });

  describe('lag', () => {
    it('when read records wait for the function, the iterator age is the age of the oldest of them, not 0', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let invoked = false;
      harness = createHarness({
        mapping: { batchSize: 100 },
        handler: async () => {
          invoked = true;
          await gate;
        },
      });
      const { kinesis, streamArn } = harness;
      const arrival = Date.now() - 60_000;
      for (let i = 0; i < 3; i += 1) kinesis.put(streamArn, `key-${i}`, `late-${i}`, arrival);
      try {
        await harness.runtime.start();
        for (let waited = 0; !invoked && waited < 3_000; waited += 10)
          await new Promise((resolve) => setTimeout(resolve, 10));
        const [lag] = harness.runtime.lag();
        expect(lag?.pendingRecords).toBe(3);
        expect(lag?.iteratorAgeMs).toBeGreaterThanOrEqual(60_000);
      } finally {
        release();
      }
      await harness.runtime.idle();
      expect(harness.runtime.lag()[0]).toMatchObject({ pendingRecords: 0, iteratorAgeMs: 0 });
    });
  });

  describe('resharding', () => {
    it('when a shard is split, it reads the children only after the parent is fully processed', async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      harness = createHarness({
        mapping: { batchSize: 100 },
        handler: async (event) => {
          if (
            Buffer.from(event.Records[0]?.kinesis.data ?? '', 'base64')
              .toString()
              .startsWith('parent')
          )
            await gate;
        },
      });
      const { kinesis, streamArn } = harness;
      for (let i = 0; i < 5; i += 1) kinesis.put(streamArn, `key-${i}`, `parent-${i}`);
      const [left, right] = kinesis.splitShard(streamArn, 'shardId-000000000000');
      for (let i = 0; i < 5; i += 1) kinesis.put(streamArn, `key-${i}`, `child-${i}`);
      await harness.runtime.start();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(harness.invoker.calls).toHaveLength(0);
      expect(
        harness.runtime
          .lag()
          .filter((l) => l.state === 'waiting-for-parents')
          .map((l) => l.shardId)
          .sort(),
      ).toEqual([left, right].sort());
      release();
      await harness.runtime.idle();
      const delivered = harness.invoker.delivered();
      expect(delivered.slice(0, 5)).toEqual(range(5, 'parent-'));
      expect(delivered.slice(5).sort()).toEqual(range(5, 'child-'));
      expect(await harness.checkpoints.get(harness.checkpointKey, 'shardId-000000000000')).toMatchObject({
        ended: true,
      });
    });

    it('when two shards are merged, it reads the child after both parents', async () => {
      harness = createHarness({ shards: 2 });
      const { kinesis, streamArn } = harness;
      for (let i = 0; i < 6; i += 1) kinesis.put(streamArn, `key-${i}`, `parent-${i}`);
      kinesis.mergeShards(streamArn, 'shardId-000000000000', 'shardId-000000000001');
      for (let i = 0; i < 6; i += 1) kinesis.put(streamArn, `key-${i}`, `child-${i}`);
      await harness.runtime.start();
      await harness.runtime.idle();
      const delivered = harness.invoker.delivered();
      expect(delivered.slice(0, 6).sort()).toEqual(range(6, 'parent-'));
      expect(delivered.slice(6)).toEqual(range(6, 'child-'));
    });
  });

  describe('stream incarnations', () => {
    it('when a stream with the same name is created again, it does not resume from the old stream’s checkpoints', async () => {
      const checkpoints = new MemoryCheckpointStore();
      const first = createHarness({ checkpoints, streamName: 'orders' });
      first.put(['a', 'b', 'c']);
      await first.runtime.start();
      await first.runtime.idle();
      await first.runtime.stop();
      // A fresh emulator: same stream name and ARN, sequence numbers start over.
      const second = createHarness({ checkpoints, streamName: 'orders', kinesis: new FakeKinesis() });
      harness = second;
      second.put(['x']);
      await second.runtime.start();
      await second.runtime.idle();
      expect(second.streamArn).toBe(first.streamArn);
      expect(second.invoker.delivered()).toEqual(['x']);
    });
  });

  describe('resilience', () => {
    it('when GetRecords fails, it gets a new iterator after the last record read and loses nothing', async () => {
      harness = createHarness({ kinesis: new FakeKinesis({ maxRecordsPerCall: 2 }) });
      harness.put(range(4), 'k');
      await harness.runtime.start();
      await harness.runtime.idle();
      harness.kinesis.failNextGetRecords(2);
      harness.put(['x', 'y'], 'k');
      await harness.runtime.idle();
      expect(harness.invoker.delivered()).toEqual([...range(4), 'x', 'y']);
    });
  });

  describe('TumblingWindowInSeconds', () => {
    const until = async (what: () => boolean): Promise<void> => {
      const deadline = performance.now() + 5_000;
      while (!what()) {
        if (performance.now() > deadline) throw new Error('condition not reached');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;

    it('when windows end, it carries state between invocations of a window and makes a final invocation per window', async () => {
      harness = createHarness({
        mapping: { tumblingWindowInSeconds: 60, batchSize: 2 },
        handler: (event) => {
          const windowEvent = event as unknown as { state: { count?: number } };
          return { state: { count: (windowEvent.state.count ?? 0) + event.Records.length } };
        },
        before: (kinesis, arn) => {
          for (const offset of [0, 1_000, 2_000]) kinesis.put(arn, 'k', `w0-${offset}`, t0 + offset);
          for (const offset of [60_000, 61_000]) kinesis.put(arn, 'k', `w1-${offset}`, t0 + offset);
        },
      });
      await harness.runtime.start();
      await until(() => harness?.invoker.calls.length === 5);
      const events = harness.invoker.calls.map(
        (c) => c.event as unknown as Record<string, unknown> & { Records: unknown[] },
      );
      expect(events.map((e) => [e.Records.length, e['state'], e['isFinalInvokeForWindow']])).toEqual([
        [2, {}, false],
        [1, { count: 2 }, false],
        [0, { count: 3 }, true],
        [2, {}, false],
        [0, { count: 2 }, true],
      ]);
      const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
      expect(events[0]).toMatchObject({
        window: { start: iso(t0), end: iso(t0 + 60_000) },
        shardId: 'shardId-000000000000',
        eventSourceARN: harness.streamArn,
        isWindowTerminatedEarly: false,
      });
      expect(events[3]?.['window']).toEqual({ start: iso(t0 + 60_000), end: iso(t0 + 120_000) });
    });

    it('when a windowed shard is split, the parent’s final window invocation comes before the children’s records', async () => {
      harness = createHarness({
        mapping: { tumblingWindowInSeconds: 900 },
        // A slow final invocation: children started too early would overtake it.
        handler: async (event) => {
          if (event.Records.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
          return { state: {} };
        },
        before: (kinesis, arn) => {
          kinesis.put(arn, 'k', 'parent', Date.now());
          kinesis.splitShard(arn, 'shardId-000000000000');
          kinesis.put(arn, 'k', 'child', Date.now());
        },
      });
      await harness.runtime.start();
      await until(() => harness?.invoker.calls.some((c) => c.data.includes('child')) ?? false);
      const sequence = harness.invoker.calls.map(
        (c) =>
          `${c.event.Records[0]?.eventID.split(':')[0] ?? (c.event as unknown as { shardId: string }).shardId}:${c.data.join(',') || 'final'}`,
      );
      expect(sequence.slice(0, 3)).toEqual([
        'shardId-000000000000:parent',
        'shardId-000000000000:final',
        expect.stringMatching(/:child$/),
      ]);
    });

    it('when the response has no state, it treats the invocation as failed', async () => {
      harness = createHarness({
        mapping: { tumblingWindowInSeconds: 60, maximumRetryAttempts: 0 },
        handler: (event) => (event.Records.length > 0 ? { batchItemFailures: [] } : { state: {} }),
        before: (kinesis, arn) => void kinesis.put(arn, 'k', 'x', t0),
      });
      await harness.runtime.start();
      await until(() => harness?.destination.sent.length === 1);
      expect(harness.destination.sent[0]?.record.requestContext.condition).toBe('RetryAttemptsExhausted');
    });
  });

  describe('idle', () => {
    it('when GetRecords returns empty pages while behind the tip, it keeps reading and idle() waits for the records', async () => {
      harness = createHarness({ runtime: { pollIntervalMs: 30, shardDiscoveryIntervalMs: 60_000 } });
      harness.put(range(3), 'k');
      harness.kinesis.returnEmptyPages(5);
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.delivered()).toEqual(range(3));
    });

    it('when shard discovery is slow, idle() does not wait for its next interval', async () => {
      harness = createHarness({ runtime: { shardDiscoveryIntervalMs: 60_000 } });
      harness.put(['a']);
      await harness.runtime.start();
      const started = performance.now();
      await harness.runtime.idle(5_000);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(harness.invoker.delivered()).toEqual(['a']);
    });

    it("when a function puts records on another mapping's stream, idle() returns only after that mapping delivered them", async () => {
      const kinesis = new FakeKinesis();
      const downstream = kinesis.createStream('downstream', 1);
      const upstream = downstream.replace(/downstream$/, 'upstream');
      harness = createHarness({
        kinesis,
        streamName: 'upstream',
        // The upstream invocation outlasts the polls of both shards before it puts: without waiting for
        // a poll after it finished, idle() saw every shard quiet and returned with 'b:a' unread.
        runtime: {
          pollIntervalMs: 40,
          shardDiscoveryIntervalMs: 60_000,
          mappings: [
            {
              uuid: 'up',
              functionName: 'operator',
              eventSourceArn: upstream,
              startingPosition: 'TRIM_HORIZON',
            },
            {
              uuid: 'down',
              functionName: 'operator',
              eventSourceArn: downstream,
              startingPosition: 'TRIM_HORIZON',
            },
          ],
        },
        handler: async (event) => {
          if (event.Records[0]?.eventSourceARN === downstream) return;
          await new Promise((resolve) => setTimeout(resolve, 150));
          for (const r of event.Records)
            kinesis.put(downstream, 'k', `b:${Buffer.from(r.kinesis.data, 'base64').toString('utf8')}`);
        },
      });
      harness.put(['a']);
      await harness.runtime.start();
      await harness.runtime.idle(5_000);
      expect(harness.invoker.delivered()).toEqual(['a', 'b:a']);
    });
  });

  describe('hooks', () => {
    it('when beforeInvoke injects crashAfter, the handler runs and the batch is retried', async () => {
      let injected = false;
      harness = createHarness({
        runtime: {
          hooks: {
            beforeInvoke: () => {
              if (injected) return undefined;
              injected = true;
              return 'crashAfter';
            },
          },
        },
      });
      harness.put(['a']);
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.data)).toEqual([['a'], ['a']]);
    });

    it('when beforeInvoke injects duplicate, the same event is delivered twice and onInvoke sees the attempt numbers', async () => {
      const attempts: number[] = [];
      harness = createHarness({
        runtime: {
          hooks: {
            beforeInvoke: (info) => (info.attempt === 1 ? 'duplicate' : undefined),
            onInvoke: (info) => void attempts.push(info.attempt),
          },
        },
      });
      harness.put(['a']);
      await harness.runtime.start();
      await harness.runtime.idle();
      expect(harness.invoker.calls.map((c) => c.requestId)).toEqual([
        harness.invoker.calls[0]?.requestId,
        harness.invoker.calls[0]?.requestId,
      ]);
      expect(attempts).toEqual([1]);
    });
  });
});
