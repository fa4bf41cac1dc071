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
    runtime.metrics.clearMetrics();
  });
});
