import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import { createOperatorRuntime } from '../../../functions/adapters/operatorRuntime';
import { KinesisStreamPutter } from '../../../functions/adapters/KinesisStreamPutter';
import { count, pipeline, tumbling } from '../../../functions/core/dsl';
import { BatchApplyError, PublishError } from '../../../functions/core/state/errors';
import { runtimeEnv, tapping } from '../../helpers/tappingPipeline';

const env = runtimeEnv('clicks');

describe('the operator runtime of a pipeline that publishes', () => {
  test('when the publish stream is not configured, it fails at load naming the variable', () => {
    expect(() => createOperatorRuntime('t', tapping, env)).toThrow(
      'SHARDFLOW_PUBLISH_STREAM is not set but pipeline clicks publishes to stream views: deploy it with ShardflowPipeline, which sets it',
    );
  });

  test('when the configured stream is another than the one the pipeline publishes to, it fails naming both', () => {
    expect(() => createOperatorRuntime('t', tapping, { ...env, SHARDFLOW_PUBLISH_STREAM: 'other' })).toThrow(
      'SHARDFLOW_PUBLISH_STREAM is "other" but the pipeline publishes to stream "views": deploy the bundle with its own stream',
    );
    expect(() =>
      createOperatorRuntime('t', tapping, {
        ...env,
        SHARDFLOW_PUBLISH_STREAM: 'arn:aws:kinesis:us-east-1:123456789012:stream/views',
      }),
    ).not.toThrow();
  });

  test('when publishing failed, it is counted as PublishFailures and logged; other errors are not', () => {
    const runtime = createOperatorRuntime('t', tapping, { ...env, SHARDFLOW_PUBLISH_STREAM: 'views' });
    const logged = jest.spyOn(runtime.logger, 'error').mockImplementation(() => undefined);
    const failure = new BatchApplyError('batch failed', false, {
      cause: new PublishError('2 of 9 records to stream views were refused 5 times; the batch is retried'),
    });
    expect(runtime.recordPublishFailure(failure)).toBe(true);
    expect(runtime.recordPublishFailure(new BatchApplyError('other', false))).toBe(false);
    expect(runtime.metrics.serializeMetrics()).toMatchObject({ PublishFailures: 1 });
    expect(logged).toHaveBeenCalledWith(
      '2 of 9 records to stream views were refused 5 times; the batch is retried',
      { code: 'PUBLISH' },
    );
    runtime.metrics.clearMetrics();
  });

  test('when a batch is recorded, the records it published are counted as PublishedRecords', () => {
    const runtime = createOperatorRuntime('t', tapping, { ...env, SHARDFLOW_PUBLISH_STREAM: 'views' });
    runtime.recordBatch({
      recordsIn: 9,
      duplicates: 0,
      duplicateEvents: 0,
      rejected: 1,
      late: 0,
      windowsWritten: 0,
      windowsEmitted: 0,
      published: 8,
      conflicts: 0,
      watermark: 0,
    });
    expect(runtime.metrics.serializeMetrics()).toMatchObject({ PublishedRecords: 8, RecordsIn: 9 });
    runtime.metrics.clearMetrics();
  });
});

const results = pipeline('minutes')
  .source({ stream: 'clickstream' })
  .clean({ schema: z.object({ page: z.string(), ts: z.number() }), eventTime: (c) => c.ts })
  .keyBy((c) => c.page)
  .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
  .aggregate({ n: count() })
  .sink({ table: 'minutes', toStream: 'minute-rows' });

describe('the operator and tick runtime of a pipeline that publishes its results (sink toStream)', () => {
  const resultsEnv = { ...env, SHARDFLOW_PIPELINE: 'minutes' };

  test('when close passes dead-lettered result rows, their number since the invocation began is counted as ResultsDeadLettered and warned about', () => {
    const runtime = createOperatorRuntime('t', results, {
      ...resultsEnv,
      SHARDFLOW_PUBLISH_STREAM: 'minute-rows',
    });
    const warned = jest.spyOn(runtime.logger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(runtime.processor, 'resultsDeadLettered', 'get').mockReturnValue(5);
    runtime.recordDeadLetters(3);
    expect(runtime.metrics.serializeMetrics()).toMatchObject({ ResultsDeadLettered: 2 });
    expect(warned).toHaveBeenCalledWith(
      '2 result rows were over the Kinesis record limit and went to rejected-results/minutes/ instead of stream minute-rows; their rows are in the table',
      { resultsDeadLettered: 2 },
    );
    runtime.metrics.clearMetrics();
    // A pipeline publishing no results has no such metric.
    const plain = createOperatorRuntime('t', tapping, { ...env, SHARDFLOW_PUBLISH_STREAM: 'views' });
    plain.recordDeadLetters(0);
    expect(plain.metrics.serializeMetrics()).not.toHaveProperty('ResultsDeadLettered');
  });

  test('when the publish stream is not configured, it fails at load naming the variable', () => {
    expect(() => createOperatorRuntime('t', results, resultsEnv)).toThrow(
      'SHARDFLOW_PUBLISH_STREAM is not set but pipeline minutes publishes to stream minute-rows: deploy it with ShardflowPipeline, which sets it',
    );
  });

  test('when the configured stream is another, it fails naming both; when it is the stream, the processor is built', () => {
    expect(() =>
      createOperatorRuntime('t', results, { ...resultsEnv, SHARDFLOW_PUBLISH_STREAM: 'other' }),
    ).toThrow(
      'SHARDFLOW_PUBLISH_STREAM is "other" but the pipeline publishes to stream "minute-rows": deploy the bundle with its own stream',
    );
    // The processor refuses to be built without a result publisher for that stream: building it proves the wiring.
    expect(
      createOperatorRuntime('t', results, { ...resultsEnv, SHARDFLOW_PUBLISH_STREAM: 'minute-rows' })
        .processor,
    ).toBeDefined();
  });
});

describe('KinesisStreamPutter', () => {
  const entries = [0, 1, 2].map((i) => ({ partitionKey: `k${i}`, data: `{"id":"${i}"}` }));
  const client = (answer: unknown) => {
    const sent: unknown[] = [];
    return {
      sent,
      client: {
        send: async (command: { input: unknown }) => {
          sent.push(command.input);
          return answer;
        },
      } as unknown as KinesisClient,
    };
  };

  test('when PutRecords refuses some entries, their indexes are returned', async () => {
    const fake = client({
      FailedRecordCount: 1,
      Records: [
        { SequenceNumber: '1', ShardId: 's' },
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' },
        { SequenceNumber: '2', ShardId: 's' },
      ],
    });
    await expect(new KinesisStreamPutter(fake.client).putRecords('views', entries)).resolves.toEqual([1]);
    expect(fake.sent).toEqual([
      {
        StreamName: 'views',
        Records: entries.map((e) => ({ PartitionKey: e.partitionKey, Data: Buffer.from(e.data) })),
      },
    ]);
  });

  test('when the response does not answer for every entry, all count as refused; an ARN is sent as the ARN', async () => {
    const fake = client({ FailedRecordCount: 0, Records: [] });
    const arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/views';
    await expect(new KinesisStreamPutter(fake.client).putRecords(arn, entries)).resolves.toEqual([0, 1, 2]);
    expect(fake.sent[0]).toMatchObject({ StreamARN: arn });
  });
});
