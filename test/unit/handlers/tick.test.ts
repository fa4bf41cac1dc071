import type { OperatorRuntimeDouble } from '../../helpers/operatorRuntimeDouble';

jest.mock('../../../functions/adapters/operatorRuntime', () => {
  const { operatorRuntimeDouble } = jest.requireActual<typeof import('../../helpers/operatorRuntimeDouble')>(
    '../../helpers/operatorRuntimeDouble',
  );
  const double = operatorRuntimeDouble({ tick: jest.fn() });
  return {
    createOperatorRuntime: () => double,
    double,
  };
});
const runtime = jest.requireMock<{ double: OperatorRuntimeDouble<{ tick: jest.Mock }> }>(
  '../../../functions/adapters/operatorRuntime',
).double;

import { tickHandler } from '../../../functions/handlers/tickHandler';
import { pageActivity } from '../../../functions/pipelines/pageActivity';

const handler = tickHandler(pageActivity);

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
});
