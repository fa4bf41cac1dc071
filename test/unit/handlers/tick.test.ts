import type { OperatorRuntimeDouble } from '../../helpers/operatorRuntimeDouble';

jest.mock('../../../functions/adapters/operatorRuntimeCore', () => {
  const { operatorRuntimeDouble } = jest.requireActual<typeof import('../../helpers/operatorRuntimeDouble')>(
    '../../helpers/operatorRuntimeDouble',
  );
  const double = operatorRuntimeDouble({ tick: jest.fn(), drain: jest.fn(), resultsDeadLettered: 4 });
  return {
    assembleOperatorRuntime: () => double,
    double,
  };
});
const runtime = jest.requireMock<{
  double: OperatorRuntimeDouble<{ tick: jest.Mock; drain: jest.Mock; resultsDeadLettered: number }>;
}>('../../../functions/adapters/operatorRuntimeCore').double;

import { kinesisSource } from '../../../functions/adapters/kinesisSource';
import { PublishError } from '../../../functions/core/state/errors';
import { tickHandler } from '../../../functions/handlers/tickHandler';
import { pageActivity } from '../../../functions/pipelines/pageActivity';

const handler = tickHandler(pageActivity, { source: kinesisSource });

describe('tick handler', () => {
  beforeEach(() => jest.clearAllMocks());

  test('when the stream lists shards, it passes them to the tick and reports what was emitted', async () => {
    runtime.listOpenShards.mockResolvedValue(['shardId-000000000000', 'shardId-000000000001']);
    runtime.processor.tick.mockResolvedValue({ watermark: 1_000, windowsEmitted: 3 });
    await expect(handler()).resolves.toEqual({ watermark: 1_000, windowsEmitted: 3 });
    expect(runtime.processor.tick).toHaveBeenCalledWith(undefined, {
      shardIds: ['shardId-000000000000', 'shardId-000000000001'],
    });
    expect(runtime.metrics.addMetric).toHaveBeenCalledWith('WindowsEmitted', 'Count', 3);
    expect(runtime.metrics.publishStoredMetrics).toHaveBeenCalledTimes(1);
  });

  test("when Lambda's context is given, close passes stop starting 15 s before the function's timeout", async () => {
    runtime.listOpenShards.mockResolvedValue(undefined);
    runtime.processor.tick.mockResolvedValue({ watermark: 1_000, windowsEmitted: 0 });
    const before = Date.now();
    await handler({}, { getRemainingTimeInMillis: () => 60_000 });
    const after = Date.now();
    const { passesUntil } = runtime.processor.tick.mock.calls[0]![1] as { passesUntil: number };
    expect(passesUntil).toBeGreaterThanOrEqual(before + 45_000);
    expect(passesUntil).toBeLessThanOrEqual(after + 45_000);
  });

  test('when skipped batches wait for replay, it publishes their count and warns; without a failure prefix it publishes none', async () => {
    runtime.listOpenShards.mockResolvedValue(undefined);
    runtime.processor.tick.mockResolvedValue({ watermark: 1_000, windowsEmitted: 0 });
    runtime.countFailedBatches.mockResolvedValueOnce(2);
    await handler();
    expect(runtime.metrics.addMetric).toHaveBeenCalledWith('FailedBatchesPending', 'Count', 2);
    expect(runtime.logger.warn).toHaveBeenCalledTimes(1);
    jest.clearAllMocks();
    runtime.countFailedBatches.mockResolvedValueOnce(undefined);
    await handler();
    expect(runtime.metrics.addMetric).not.toHaveBeenCalledWith(
      'FailedBatchesPending',
      expect.anything(),
      expect.anything(),
    );
    expect(runtime.logger.warn).not.toHaveBeenCalled();
  });

  test('when no watermark exists yet, it reports null instead of -Infinity', async () => {
    runtime.listOpenShards.mockResolvedValue(undefined);
    runtime.processor.tick.mockResolvedValue({ watermark: -Infinity, windowsEmitted: 0 });
    await expect(handler()).resolves.toEqual({ watermark: null, windowsEmitted: 0 });
    expect(runtime.processor.tick).toHaveBeenCalledWith(undefined, {});
  });

  test('when the tick fails, it logs and rethrows so the schedule retries', async () => {
    runtime.listOpenShards.mockResolvedValue(undefined);
    runtime.processor.tick.mockRejectedValue(new Error('throttled'));
    await expect(handler()).rejects.toThrow('throttled');
    expect(runtime.logger.error).toHaveBeenCalledTimes(1);
    expect(runtime.metrics.publishStoredMetrics).toHaveBeenCalledTimes(1);
  });
  test('when the close pass could not publish its results, it counts it as a publish failure (not a plain failure), counts dead letters and rethrows', async () => {
    runtime.listOpenShards.mockResolvedValue(undefined);
    const failure = new PublishError(
      '3 of 7 records to stream minutes were refused 5 times; the batch is retried',
    );
    runtime.processor.tick.mockRejectedValue(failure);
    runtime.recordPublishFailure.mockReturnValueOnce(true);
    await expect(handler()).rejects.toBe(failure);
    expect(runtime.recordPublishFailure).toHaveBeenCalledWith(failure);
    expect(runtime.logger.error).not.toHaveBeenCalled();
    // The dead letters of the invocation are counted from the processor's count when it began.
    expect(runtime.recordDeadLetters).toHaveBeenCalledWith(4);
    expect(runtime.metrics.publishStoredMetrics).toHaveBeenCalledTimes(1);
  });

  test('when invoked with a drain request, it drains (with the listed shards and atLeast) instead of ticking', async () => {
    runtime.listOpenShards.mockResolvedValue(['shardId-000000000000']);
    runtime.processor.drain.mockResolvedValue({ drainedThrough: 120_000, windowsEmitted: 2 });
    await expect(handler({ action: 'shardflow:drain', atLeast: 60_000 })).resolves.toEqual({
      drainedThrough: 120_000,
      windowsEmitted: 2,
    });
    expect(runtime.processor.drain).toHaveBeenCalledWith(60_000, { shardIds: ['shardId-000000000000'] });
    expect(runtime.processor.tick).not.toHaveBeenCalled();
    expect(runtime.metrics.addMetric).toHaveBeenCalledWith('WindowsEmitted', 'Count', 2);
  });

  test.each([
    ['a scheduled event', { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }],
    ['another action', { action: 'drain' }],
    ['an inherited action', Object.create({ action: 'shardflow:drain' }) as object],
    ['an array', ['shardflow:drain']],
    ['no event', undefined],
  ])('when invoked with %s, it runs the scheduled tick, never a drain', async (_what, event) => {
    runtime.listOpenShards.mockResolvedValue(undefined);
    runtime.processor.tick.mockResolvedValue({ watermark: 1_000, windowsEmitted: 0 });
    await handler(event);
    expect(runtime.processor.tick).toHaveBeenCalledTimes(1);
    expect(runtime.processor.drain).not.toHaveBeenCalled();
  });

  test.each([
    ['an unknown field', { action: 'shardflow:drain', through: 5 }],
    ['a negative bound', { action: 'shardflow:drain', atLeast: -1 }],
    ['a string bound', { action: 'shardflow:drain', atLeast: '5' }],
    ['an infinite bound', { action: 'shardflow:drain', atLeast: Number.POSITIVE_INFINITY }],
  ])('when a drain request has %s, it is refused and nothing is drained or ticked', async (_what, event) => {
    runtime.listOpenShards.mockResolvedValue(undefined);
    await expect(handler(event)).rejects.toMatchObject({ code: 'INVALID_DRAIN_REQUEST' });
    expect(runtime.processor.drain).not.toHaveBeenCalled();
    expect(runtime.processor.tick).not.toHaveBeenCalled();
  });
});
