import { BatchApplyError, IncompatibleStateError } from '../../../functions/core/state/errors';
import { createOperatorRuntime } from '../../../functions/adapters/operatorRuntime';
import { pageActivity } from '../../../functions/pipelines/pageActivity';

describe('createOperatorRuntime', () => {
  test('when a required variable is missing, it fails at load naming the variable', () => {
    expect(() =>
      createOperatorRuntime('t', pageActivity, {
        SHARDFLOW_PIPELINE: 'page-activity',
        SHARDFLOW_RESULTS_BUCKET: 'bucket',
      }),
    ).toThrow('SHARDFLOW_STATE_TABLE');
  });

  test('when SHARDFLOW_PIPELINE names another pipeline than the bundled one, it fails naming both', () => {
    expect(() =>
      createOperatorRuntime('t', pageActivity, {
        SHARDFLOW_PIPELINE: 'nope',
        SHARDFLOW_STATE_TABLE: 'table',
        SHARDFLOW_RESULTS_BUCKET: 'bucket',
      }),
    ).toThrow(
      'SHARDFLOW_PIPELINE is "nope" but this function\'s bundle holds pipeline "page-activity": deploy the bundle built for "nope"',
    );
  });

  test('when the configuration is valid, it builds the processor for the named pipeline', () => {
    const runtime = createOperatorRuntime('t', pageActivity, {
      SHARDFLOW_PIPELINE: 'page-activity',
      SHARDFLOW_STATE_TABLE: 'table',
      SHARDFLOW_RESULTS_BUCKET: 'bucket',
      AWS_REGION: 'us-east-1',
    });
    expect(runtime.pipeline.spec.name).toBe('page-activity');
    expect(runtime.store.stats.requests).toBe(0);
  });

  test('when a batch is recorded, its rejected, late and duplicate counts become EMF metrics of the pipeline', () => {
    const runtime = createOperatorRuntime('t', pageActivity, {
      SHARDFLOW_PIPELINE: 'page-activity',
      SHARDFLOW_STATE_TABLE: 'table',
      SHARDFLOW_RESULTS_BUCKET: 'bucket',
      AWS_REGION: 'us-east-1',
    });
    runtime.recordBatch({
      recordsIn: 10,
      duplicates: 1,
      duplicateEvents: 3,
      rejected: 2,
      late: 1,
      windowsWritten: 4,
      windowsEmitted: 0,
      published: 0,
      conflicts: 0,
      watermark: 0,
    });
    const emf = runtime.metrics.serializeMetrics() as unknown as Record<string, unknown>;
    expect(emf).toMatchObject({
      pipeline: 'page-activity',
      RecordsIn: 10,
      RejectedRecords: 2,
      LateRecords: 1,
      DuplicateEvents: 3,
    });
    // page-activity publishes nothing: no PublishedRecords figure at all.
    expect(emf).not.toHaveProperty('PublishedRecords');
    runtime.metrics.clearMetrics();
  });

  test('when a close pass refused state of another shape, the refusal is counted and logged with its code; other errors are not', () => {
    const runtime = createOperatorRuntime('t', pageActivity, {
      SHARDFLOW_PIPELINE: 'page-activity',
      SHARDFLOW_STATE_TABLE: 'table',
      SHARDFLOW_RESULTS_BUCKET: 'bucket',
      AWS_REGION: 'us-east-1',
    });
    const error = jest.spyOn(runtime.logger, 'error').mockImplementation(() => undefined);
    const refusal = new IncompatibleStateError('Segment 3 of shard s refused; not merged', {
      shardId: 's',
      commit: 3,
      storedFingerprint: '0123456789abcdef',
      expectedFingerprint: 'fedcba9876543210',
    });
    expect(runtime.recordRefusal(new Error('unrelated'))).toBe(false);
    expect(runtime.recordRefusal(new BatchApplyError('closing failed', true, { cause: refusal }))).toBe(true);
    expect(runtime.metrics.serializeMetrics()).toMatchObject({ IncompatibleStateRefused: 1 });
    expect(error).toHaveBeenCalledWith(refusal.message, {
      code: 'INCOMPATIBLE_STATE',
      shardId: 's',
      commit: 3,
    });
    runtime.metrics.clearMetrics();
  });
});
