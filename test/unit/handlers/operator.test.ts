import type { KinesisStreamEvent } from 'aws-lambda';
import { BatchApplyError } from '../../../functions/core/state/errors';
import type { OperatorRuntimeDouble } from '../../helpers/operatorRuntimeDouble';

jest.mock('../../../functions/adapters/operatorRuntimeCore', () => {
  const { operatorRuntimeDouble } = jest.requireActual<typeof import('../../helpers/operatorRuntimeDouble')>(
    '../../helpers/operatorRuntimeDouble',
  );
  const double = operatorRuntimeDouble({ apply: jest.fn() });
  return { assembleOperatorRuntime: () => double, double };
});
const runtime = jest.requireMock<{ double: OperatorRuntimeDouble<{ apply: jest.Mock }> }>(
  '../../../functions/adapters/operatorRuntimeCore',
).double;

// Imported after the mock is registered (jest hoists jest.mock above imports).
import { kinesisSource } from '../../../functions/adapters/kinesisSource';
import { operatorHandler } from '../../../functions/handlers/operatorHandler';
import { pageActivity } from '../../../functions/pipelines/pageActivity';

const handler = operatorHandler(pageActivity, { source: kinesisSource });

const event = (...seqs: string[]): KinesisStreamEvent => ({
  Records: seqs.map((seq) => ({
    eventID: `shardId-000000000000:${seq}`,
    eventName: 'aws:kinesis:record',
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
    awsRegion: 'us-east-1',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/r',
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: 'p',
      sequenceNumber: seq,
      data: 'e30=',
      approximateArrivalTimestamp: 1,
    },
  })),
});

const ok = {
  recordsIn: 2,
  duplicates: 0,
  duplicateEvents: 0,
  rejected: 0,
  late: 0,
  windowsWritten: 1,
  windowsEmitted: 0,
  conflicts: 0,
  published: 0,
  watermark: 5,
};

describe('operator handler', () => {
  beforeEach(() => jest.clearAllMocks());

  test('when the batch applies, it returns no failures and records metrics', async () => {
    runtime.processor.apply.mockResolvedValue(ok);
    await expect(handler(event('7', '8'))).resolves.toEqual({ batchItemFailures: [] });
    expect(runtime.processor.apply).toHaveBeenCalledWith([
      expect.objectContaining({ sequenceNumber: '7', shardId: 'shardId-000000000000' }),
      expect.objectContaining({ sequenceNumber: '8' }),
    ]);
    expect(runtime.recordBatch).toHaveBeenCalledWith(ok);
    expect(runtime.metrics.publishStoredMetrics).toHaveBeenCalledTimes(1);
  });

  test('when infrastructure fails before the records are in, it reports the batch from its first record', async () => {
    runtime.processor.apply.mockRejectedValue(new BatchApplyError('down', false));
    await expect(handler(event('7', '8'))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
    expect(runtime.logger.error).toHaveBeenCalledTimes(1);
    expect(runtime.metrics.publishStoredMetrics).toHaveBeenCalledTimes(1);
  });

  test('when publishing to the downstream stream fails, it reports the batch from its first record and counts the failure', async () => {
    const failure = new BatchApplyError('not published', false);
    runtime.processor.apply.mockRejectedValue(failure);
    runtime.recordPublishFailure.mockReturnValueOnce(true);
    await expect(handler(event('7', '8'))).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
    expect(runtime.recordPublishFailure).toHaveBeenCalledWith(failure);
    expect(runtime.logger.error).not.toHaveBeenCalled();
  });

  test('when only emission fails after the records are in, it reports success and warns', async () => {
    runtime.processor.apply.mockRejectedValue(new BatchApplyError('emit', true));
    await expect(handler(event('7'))).resolves.toEqual({ batchItemFailures: [] });
    expect(runtime.logger.warn).toHaveBeenCalledTimes(1);
  });

  describe('when the mapping has a tumbling window (the event has a window)', () => {
    const windowed = (records: KinesisStreamEvent, final: boolean) => ({
      ...records,
      window: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:15:00Z' },
      state: {},
      shardId: 'shardId-000000000000',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
      isFinalInvokeForWindow: final,
      isWindowTerminatedEarly: false,
    });

    test('the final invocation, which has no records, succeeds with a state and commits no record', async () => {
      runtime.processor.apply.mockResolvedValue({ ...ok, recordsIn: 0 });
      await expect(handler(windowed(event(), true))).resolves.toEqual({ batchItemFailures: [], state: {} });
      expect(runtime.processor.apply).toHaveBeenCalledWith([]);
    });

    test('a batch answers with a state, and its batch item failures still report where to resume', async () => {
      runtime.processor.apply.mockResolvedValue(ok);
      await expect(handler(windowed(event('7', '8'), false))).resolves.toEqual({
        batchItemFailures: [],
        state: {},
      });
      runtime.processor.apply.mockRejectedValue(new BatchApplyError('down', false));
      await expect(handler(windowed(event('7', '8'), false))).resolves.toEqual({
        batchItemFailures: [{ itemIdentifier: '7' }],
        state: {},
      });
    });

    test('an event without a window is answered without a state', async () => {
      runtime.processor.apply.mockResolvedValue(ok);
      await expect(handler(event('7'))).resolves.not.toHaveProperty('state');
    });
  });

  test('when the event is not a Kinesis event, it throws so Lambda retries and alarms on errors', async () => {
    await expect(handler({ Records: [{}] } as unknown as KinesisStreamEvent)).rejects.toThrow();
  });
});
