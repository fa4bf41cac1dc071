import { z } from 'zod';
import { count, pipeline, tumbling } from '../../functions/core/dsl';

/** A pipeline that publishes its cleaned values (`.toStream('views')`) and counts clicks per page and minute. */
export const tapping = pipeline('clicks')
  .source({ stream: 'clickstream' })
  .clean({ schema: z.object({ page: z.string(), ts: z.number() }), eventTime: (c) => c.ts })
  .toStream('views', { partitionKey: (c) => c.page })
  .keyBy((c) => c.page)
  .window(tumbling('1m'), { allowedLateness: '0s', maxOutOfOrderness: '0s' })
  .aggregate({ n: count() })
  .sink({ table: 'clicks' });

/** The function environment of an operator runtime in unit tests (no publish stream: add it where needed). */
export const runtimeEnv = (pipelineName: string): Record<string, string> => ({
  SHARDFLOW_PIPELINE: pipelineName,
  SHARDFLOW_STATE_TABLE: 'table',
  SHARDFLOW_RESULTS_BUCKET: 'bucket',
  AWS_REGION: 'us-east-1',
});
